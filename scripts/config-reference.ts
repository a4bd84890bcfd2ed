/**
 * Generates docs/CONFIGURATION.md from the config schema, so the reference cannot drift:
 *
 *   npm run docs:config            write docs/CONFIGURATION.md
 *   npm run docs:config -- --check exit 1 when the committed file is out of date
 *
 * Keys, types and nesting come from the zod schema (as JSON Schema), defaults from parsing an
 * empty file, environment variables from ENV_OVERRIDES and the loader's secret readers, and
 * descriptions from `.describe()` in the schema or else the comments beside each key in
 * config/default.yaml. A key added to the schema shows up without any change here.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { format, resolveConfig } from 'prettier'
import { ENV_OVERRIDES } from '../src/config/env.js'
import { collectConfigKeys, configSources, secretVariables, type ConfigKey } from './config-keys.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Where the reference is written, relative to the repository root. */
export const REFERENCE_FILE = 'docs/CONFIGURATION.md'

/** Table cell text: one line, pipes escaped, `*` and `_` outside code kept literal (/ts/*). */
const cell = (text: string): string =>
  text
    .replace(/\s*\n\s*/g, ' ')
    .split(/(`[^`]*`)/)
    .map((part, index) =>
      index % 2 === 1 ? part.replace(/\|/g, '\\|') : part.replace(/[|*_]/g, (char) => `\\${char}`),
    )
    .join('')

/** The whole Markdown reference, formatted as prettier formats the repository's Markdown. */
export async function renderConfigReference(): Promise<string> {
  const keys = collectConfigKeys()
  const sections = new Map<string, ConfigKey[]>()
  for (const key of keys) {
    const section = key.path.split('.')[0] ?? key.path
    sections.set(section, [...(sections.get(section) ?? []), key])
  }
  const secretVars = [...secretVariables(configSources())]
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`. Do not edit by hand. -->',
    '',
    'The BFF reads one YAML file (`BFF_CONFIG`, default `config/default.yaml`) and the environment.',
    'A variable overrides the key it sets; a key that neither sets takes its built-in default. The',
    'file replaces `config/default.yaml` entirely (no merge), so a file of your own must bring its',
    'own `proxy.allow` list. Unknown keys, wrong types and contradictory settings stop the start,',
    'naming the key and the file. Secrets never go into the file inline: set them in the',
    'environment, as a file (`*_FILE`), or with the `…File` keys.',
    '',
    'The **default** column is the built-in default (when the key is absent); where the shipped',
    '`config/default.yaml` sets another value, the description says so.',
    '',
  ]
  for (const [section, rows] of sections) {
    lines.push(`## \`${section}\``, '', '| key | type | default | environment | description |')
    lines.push('| --- | --- | --- | --- | --- |')
    for (const row of rows) {
      const env = row.env.map((name) => `\`${name}\``).join(', ') || '—'
      lines.push(
        `| \`${row.path}\` | ${cell(row.type)} | ${cell(row.default)} | ${env} | ${cell(row.description) || '—'} |`,
      )
    }
    lines.push('')
  }
  lines.push('## Environment variables', '', '| variable | sets |', '| --- | --- |')
  const vars: [string, string][] = [
    ['NODE_ENV', '`production` refuses to start without the required settings; never demo mode'],
    ['BFF_CONFIG', 'path of the YAML config file (default `config/default.yaml`)'],
    ['BFF_MAPPING', 'path of the users-to-groups mapping file (default `config/mapping.yaml`)'],
    ...Object.entries(ENV_OVERRIDES).map(([name, [path]]): [string, string] => [
      name,
      `\`${path.join('.')}\``,
    ]),
    ...secretVars.flatMap(([key, name]): [string, string][] => [
      [name, `the secret itself (instead of \`${name}_FILE\` or \`${key}\`)`],
      [`${name}_FILE`, `path of a file holding it, like \`${key}\` (trailing whitespace trimmed)`],
    ]),
  ]
  for (const [name, sets] of vars) lines.push(`| \`${name}\` | ${sets} |`)
  lines.push('')
  const options = (await resolveConfig(join(ROOT, REFERENCE_FILE))) ?? {}
  return format(lines.join('\n'), { ...options, parser: 'markdown' })
}

async function main(): Promise<void> {
  const target = join(ROOT, REFERENCE_FILE)
  const text = await renderConfigReference()
  if (process.argv.includes('--check')) {
    let current = ''
    try {
      current = readFileSync(target, 'utf8')
    } catch {
      // A missing file is out of date like any other.
    }
    if (current !== text) {
      process.stderr.write(`${REFERENCE_FILE} is out of date: run npm run docs:config\n`)
      process.exit(1)
    }
    return
  }
  writeFileSync(target, text)
  process.stdout.write(`wrote ${REFERENCE_FILE} (${collectConfigKeys().length} keys)\n`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main()
