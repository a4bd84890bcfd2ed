/**
 * `npm run mapping -- check [--file F]` validates the mapping file;
 * `npm run mapping -- explain --claims '<json>' [--username U] [--file F]` prints what those
 * claims map to and which rules matched. Both exit 1 on an invalid file, naming the line.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_MAPPING_FILE } from '../config/load.js'
import { evaluateMapping } from './evaluate.js'
import { loadMappingFile, type LoadedMapping } from './schema.js'

const USAGE = `usage:
  npm run mapping -- check [--file <mapping.yaml>]
  npm run mapping -- explain --claims '<json>' [--username <name>] [--username-claim sub] [--file <mapping.yaml>]
The file defaults to $BFF_MAPPING, else ${DEFAULT_MAPPING_FILE}.`

export interface CliResult {
  code: number
  out: string
  err: string
}

function describeRule(loaded: LoadedMapping, index: number): string {
  const rule = loaded.mapping.rules[index]
  const line = loaded.ruleLines[index]
  if (!rule) return `rules[${index}]`
  const { claim } = rule.when
  const op = (['equals', 'includes', 'endsWith', 'matches'] as const).find(
    (name) => rule.when[name] !== undefined,
  )
  const value = op ? rule.when[op] : undefined
  return `rules[${index}]${line ? ` (line ${line})` : ''}: ${claim} ${op} ${JSON.stringify(value)}`
}

export function runMappingCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliResult {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        file: { type: 'string' },
        claims: { type: 'string' },
        username: { type: 'string' },
        'username-claim': { type: 'string', default: env.IDENTITY_USERNAME_CLAIM ?? 'sub' },
      },
    })
  } catch (err) {
    return { code: 2, out: '', err: `${(err as Error).message}\n${USAGE}\n` }
  }
  const [command] = parsed.positionals
  const file = parsed.values.file ?? env.BFF_MAPPING ?? DEFAULT_MAPPING_FILE
  if (command !== 'check' && command !== 'explain') return { code: 2, out: '', err: `${USAGE}\n` }

  const result = loadMappingFile(file)
  if ('problems' in result)
    return { code: 1, out: '', err: result.problems.map((p) => `${p}\n`).join('') }
  const loaded = result.loaded
  if (command === 'check') {
    const { rules, users, attributes } = loaded.mapping
    return {
      code: 0,
      out: `${file}: ok (${loaded.mapping.default ? 'has a default' : 'no default: unmatched users are refused'}, ${rules.length} rules, ${Object.keys(users).length} user entries, ${attributes.length} attributes)\n`,
      err: '',
    }
  }

  let claims: Record<string, unknown>
  try {
    const value: unknown = JSON.parse(parsed.values.claims ?? '')
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error('not an object')
    claims = value as Record<string, unknown>
  } catch {
    return {
      code: 2,
      out: '',
      err: `--claims must be a JSON object, e.g. '{"sub":"alice@acme.com"}'\n`,
    }
  }
  const usernameClaim = parsed.values['username-claim']
  const claimed = claims[usernameClaim]
  const username =
    parsed.values.username ??
    (typeof claimed === 'string' || typeof claimed === 'number' ? String(claimed) : '')
  const evaluation = evaluateMapping(loaded, username, claims)
  const lines = [`username: ${username || '(none)'}`]
  switch (evaluation.outcome) {
    case 'not-mapped':
      lines.push('result: NOT_MAPPED (no default, no rule matched, no users entry) → 403')
      break
    case 'denied':
      lines.push(`result: DENIED by ${describeRule(loaded, evaluation.rule)} → 403`)
      break
    case 'mapped': {
      const { access } = evaluation
      const api =
        access.filterRules.length > 0 || access.variableValues.length > 0
          ? 'auth/token/custom'
          : 'auth/token/full'
      lines.push(
        'result: mapped',
        `  groups:      ${access.groups.length > 0 ? access.groups.join(', ') : '(none)'}`,
        `  orgId:       ${access.orgId}`,
        `  accessLevel: ${access.accessLevel}`,
        `  autoCreate:  ${access.autoCreate}`,
        `  minted with: ${api}`,
        `  default:     ${loaded.mapping.default ? 'applied' : 'none in file'}`,
        `  users entry: ${access.userEntry ? 'applied' : 'none'}`,
        'matched rules:',
        ...(access.matchedRules.length > 0
          ? access.matchedRules.map((i) => `  ${describeRule(loaded, i)}`)
          : ['  (none)']),
      )
      if (access.filterRules.length > 0)
        lines.push(`filter_rules: ${JSON.stringify(access.filterRules)}`)
      if (access.variableValues.length > 0)
        lines.push(`variable_values: ${JSON.stringify(access.variableValues)}`)
    }
  }
  return { code: 0, out: `${lines.join('\n')}\n`, err: '' }
}

// Run when executed directly (npm run mapping), not when imported by tests.
if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const result = runMappingCli(process.argv.slice(2), process.env)
  process.stdout.write(result.out)
  process.stderr.write(result.err)
  process.exitCode = result.code
}
