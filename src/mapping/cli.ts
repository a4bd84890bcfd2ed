/**
 * `npm run mapping -- check [--file F] [--strict]` validates the mapping file and prints its
 * warnings; `npm run mapping -- explain --claims '<json>' [--username U] [--file F]` prints what
 * those claims map to, which rules matched and which nearly did. Exit codes: 0 ok, 1 invalid
 * file, 2 bad arguments, 3 warnings under `check --strict`.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_MAPPING_FILE } from '../config/load.js'
import { normaliseUsername, USERNAME_CASES, type UsernameCase } from '../identity/username.js'
import { evaluateMapping, type Evaluation } from './evaluate.js'
import { nearMisses } from './near-miss.js'
import { loadMappingFile, type LoadedMapping } from './schema.js'
import { visible } from './warnings.js'

const USAGE = `usage:
  npm run mapping -- check [--file <mapping.yaml>] [--strict] [--username-case preserve|lower]
  npm run mapping -- explain --claims '<json>' [--username <name>] [--username-claim sub]
                             [--username-case preserve|lower] [--file <mapping.yaml>]
The file defaults to $BFF_MAPPING, else ${DEFAULT_MAPPING_FILE}. --username-case is the
config's identity.usernameCase (default preserve).
exit codes: 0 ok (warnings go to stderr), 1 invalid file (each problem names its line),
            2 bad arguments, 3 check --strict found warnings`

/** What a CLI run prints and its exit code; `main` writes them, tests read them. */
export interface CliResult {
  code: number
  out: string
  err: string
}

const usageError = (message?: string): CliResult => ({
  code: 2,
  out: '',
  err: `${message ? `${message}\n` : ''}${USAGE}\n`,
})

const shorten = (text: string): string => (text.length > 80 ? `${text.slice(0, 77)}…` : text)

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

const warningCount = (n: number): string =>
  n === 0 ? '' : `, ${n} warning${n === 1 ? '' : 's'} on stderr`

function check(loaded: LoadedMapping, strict: boolean): CliResult {
  const { rules, users, attributes } = loaded.mapping
  const summary = `${loaded.file}: ok (${loaded.mapping.default ? 'has a default' : 'no default: unmatched users are refused'}, ${rules.length} rules, ${Object.keys(users).length} user entries, ${attributes.length} attributes${warningCount(loaded.warnings.length)})\n`
  return {
    code: strict && loaded.warnings.length > 0 ? 3 : 0,
    out: summary,
    err: loaded.warnings.map((w) => `warning: ${w}\n`).join(''),
  }
}

function describeResult(loaded: LoadedMapping, evaluation: Evaluation): string[] {
  switch (evaluation.outcome) {
    case 'not-mapped':
      return ['result: NOT_MAPPED (no default, no rule matched, no users entry) → 403']
    case 'denied': {
      if (evaluation.reason === 'rule') {
        return [`result: DENIED by ${describeRule(loaded, evaluation.rule)} → 403`]
      }
      const attr = loaded.mapping.attributes[evaluation.attribute]
      const target =
        attr?.column !== undefined ? `column ${attr.column}` : `variable ${attr?.variable ?? '?'}`
      return [
        `result: DENIED: attributes[${evaluation.attribute}] (${evaluation.claim} → ${target}): the claim ${evaluation.problem}; a row filter is never dropped → 403`,
      ]
    }
    case 'mapped': {
      const { access } = evaluation
      const custom = access.filterRules.length > 0 || access.variableValues.length > 0
      const lines = [
        'result: mapped',
        `  groups:      ${access.groups.length > 0 ? access.groups.join(', ') : '(none)'}`,
        `  orgId:       ${access.orgId}`,
        `  accessLevel: ${access.accessLevel}`,
        `  autoCreate:  ${access.autoCreate}`,
        `  minted with: ${custom ? 'auth/token/custom' : 'auth/token/full'}`,
        `  default:     ${loaded.mapping.default ? 'applied' : 'none in file'}`,
        `  users entry: ${access.userEntry ? 'applied' : 'none'}`,
        'matched rules:',
        ...(access.matchedRules.length > 0
          ? access.matchedRules.map((i) => `  ${describeRule(loaded, i)}`)
          : ['  (none)']),
      ]
      if (access.filterRules.length > 0)
        lines.push(`filter_rules: ${JSON.stringify(access.filterRules)}`)
      if (access.variableValues.length > 0)
        lines.push(`variable_values: ${JSON.stringify(access.variableValues)}`)
      return lines
    }
  }
}

function parseClaims(text: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text ?? '')
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
    return value as Record<string, unknown>
  } catch {
    return undefined
  }
}

function explain(
  loaded: LoadedMapping,
  claims: Record<string, unknown>,
  given: string | undefined,
  usernameClaim: string,
  usernameCase: UsernameCase,
): CliResult {
  const claimed = claims[usernameClaim]
  const raw =
    given ??
    (typeof claimed === 'string' || (typeof claimed === 'number' && Number.isSafeInteger(claimed))
      ? String(claimed)
      : undefined)
  if (raw === undefined) {
    return {
      code: 0,
      out: `username: (none)\nresult: INVALID_TOKEN (the "${usernameClaim}" claim is missing or not a string) → 401\n`,
      err: '',
    }
  }
  const normalised = normaliseUsername(raw, usernameCase)
  if ('problem' in normalised) {
    return {
      code: 0,
      out: `username: ${shorten(visible(raw))}\nresult: INVALID_TOKEN (the username ${normalised.problem}) → 401\n`,
      err: '',
    }
  }
  const { username } = normalised
  const lines = [`username: ${username}${username !== raw ? ` (from ${visible(raw)})` : ''}`]
  lines.push(...describeResult(loaded, evaluateMapping(loaded, username, claims)))
  const near = nearMisses(loaded, claims)
  if (near.length > 0) {
    lines.push('near misses:')
    for (const miss of near)
      lines.push(`  ${describeRule(loaded, miss.rule)}: no match — ${miss.why}`)
  }
  return { code: 0, out: `${lines.join('\n')}\n`, err: '' }
}

/** Runs the mapping CLI on `argv` (without node and the script) and returns what to print. */
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
        help: { type: 'boolean', short: 'h' },
        file: { type: 'string' },
        claims: { type: 'string' },
        username: { type: 'string' },
        'username-claim': { type: 'string', default: env.IDENTITY_USERNAME_CLAIM ?? 'sub' },
        'username-case': { type: 'string', default: 'preserve' },
        strict: { type: 'boolean', default: false },
      },
    })
  } catch (err) {
    return usageError(err instanceof Error ? err.message : String(err))
  }
  if (parsed.values.help === true) return { code: 0, out: `${USAGE}\n`, err: '' }
  const [command, ...extra] = parsed.positionals
  if ((command !== 'check' && command !== 'explain') || extra.length > 0) return usageError()
  const usernameCase = USERNAME_CASES.find((c) => c === parsed.values['username-case'])
  if (usernameCase === undefined) return usageError('--username-case must be preserve or lower')
  const claims = command === 'explain' ? parseClaims(parsed.values.claims) : {}
  if (claims === undefined) {
    return usageError(`--claims must be a JSON object, e.g. '{"sub":"alice@acme.com"}'`)
  }

  const file = parsed.values.file ?? env.BFF_MAPPING ?? DEFAULT_MAPPING_FILE
  const result = loadMappingFile(file, undefined, { usernameCase })
  if ('problems' in result) {
    return { code: 1, out: '', err: result.problems.map((p) => `${p}\n`).join('') }
  }
  if (command === 'check') return check(result.loaded, parsed.values.strict)
  return explain(
    result.loaded,
    claims,
    parsed.values.username,
    parsed.values['username-claim'],
    usernameCase,
  )
}

// Run when executed directly (npm run mapping), not when imported by tests.
if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const result = runMappingCli(process.argv.slice(2), process.env)
  process.stdout.write(result.out)
  process.stderr.write(result.err)
  process.exitCode = result.code
}
