/**
 * What the check command found, and how it is printed: one line per check for people, one JSON
 * object for scripts, and the exit code. Every line passes through `scrub`, so a secret that
 * slipped into a message (it never should) is printed as `[redacted]`.
 */

/** The check command's exit codes (documented in `--help` and the README). */
export const EXIT = {
  ok: 0,
  /** The config, mapping, allowlist or identity key file is invalid. */
  configInvalid: 1,
  usage: 2,
  /** The identity provider or ThoughtSpot is unreachable, or refused (the mint, the revoke). */
  dependency: 3,
  /** `--user`/`--claims`: the mapping would refuse this user, so nothing was minted. */
  userRefused: 4,
} as const

/** One exit code of {@link EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** The checks, in the order they run. */
export type CheckName = 'config' | 'identity' | 'thoughtspot' | 'mint'

/** One check's result. */
export interface CheckResult {
  name: CheckName
  /** True when it passed (warnings allowed) or was skipped. */
  ok: boolean
  skipped: boolean
  /** One sentence: what was checked and what came of it. */
  detail: string
  /** Each problem on its own line (config: every one, sorted by file and line). */
  problems: string[]
  warnings: string[]
  /** Further lines worth reading (the keys of a JWKS). */
  notes: string[]
  /** The exit code a failure means. */
  failure?: ExitCode
}

/** A passed check. */
export function passed(
  name: CheckName,
  detail: string,
  extra: { warnings?: string[]; notes?: string[] } = {},
): CheckResult {
  return {
    name,
    ok: true,
    skipped: false,
    detail,
    problems: [],
    warnings: extra.warnings ?? [],
    notes: extra.notes ?? [],
  }
}

/** A failed check and what its failure means for the exit code. */
export function failed(
  name: CheckName,
  failure: ExitCode,
  detail: string,
  extra: { problems?: string[]; warnings?: string[]; notes?: string[] } = {},
): CheckResult {
  return {
    name,
    ok: false,
    skipped: false,
    detail,
    problems: extra.problems ?? [],
    warnings: extra.warnings ?? [],
    notes: extra.notes ?? [],
    failure,
  }
}

/** A check that did not run, and why. */
export function skipped(name: CheckName, detail: string): CheckResult {
  return { name, ok: true, skipped: true, detail, problems: [], warnings: [], notes: [] }
}

/** The exit code of a run: an invalid config first, then a dependency, then a refused user. */
export function exitCodeOf(results: readonly CheckResult[]): ExitCode {
  const failures = new Set(results.map((result) => result.failure))
  for (const code of [EXIT.configInvalid, EXIT.dependency, EXIT.userRefused]) {
    if (failures.has(code)) return code
  }
  return EXIT.ok
}

const MEANING: Readonly<Record<ExitCode, string>> = {
  0: 'everything checked is fine',
  1: 'the configuration is invalid',
  2: 'bad arguments',
  3: 'a dependency is unreachable or refused',
  4: 'the mapping would refuse this user',
}

/** Replaces every secret in `text`; the longest first, so one that contains another goes whole. */
export function scrubber(secrets: () => readonly string[]): (text: string) => string {
  return (text) => {
    let out = text
    const values = secrets()
      .filter((value) => value.length >= 4)
      .sort((a, b) => b.length - a.length)
    for (const value of values) out = out.split(value).join('[redacted]')
    return out
  }
}

/** The human report: a line per check, its problems, warnings and notes indented below. */
export function renderText(results: readonly CheckResult[], code: ExitCode): string {
  const lines = ['thoughtspot-bff check', '']
  for (const result of results) {
    const status = result.skipped ? 'skip' : result.ok ? 'ok' : 'FAIL'
    lines.push(`${status.padEnd(5)} ${result.name.padEnd(12)} ${result.detail}`)
    for (const problem of result.problems) lines.push(`        problem: ${problem}`)
    for (const warning of result.warnings) lines.push(`        warning: ${warning}`)
    for (const note of result.notes) lines.push(`        ${note}`)
  }
  lines.push('', `exit ${code}: ${MEANING[code]}`)
  return `${lines.join('\n')}\n`
}

/** The report for scripts: one JSON object on one line. */
export function renderJson(results: readonly CheckResult[], code: ExitCode): string {
  const checks = results.map(({ name, ok, skipped: skip, detail, problems, warnings, notes }) => ({
    name,
    ok,
    skipped: skip,
    detail,
    problems,
    warnings,
    notes,
  }))
  return `${JSON.stringify({ ok: code === EXIT.ok, exitCode: code, checks })}\n`
}
