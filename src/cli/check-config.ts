/**
 * The check command's first step: the configuration exactly as the BFF loads it (`loadConfig`:
 * the config file, the environment, the secrets, the allowlist, the mapping file, the identity
 * key file), every problem at once, sorted by file and line, plus the warnings a start would log.
 */
import { loadConfig, type Config } from '../config/load.js'
import { StartupError } from '../errors.js'
import { loadMappingFile, type LoadedMapping } from '../mapping/schema.js'
import { EXIT, failed, passed, type CheckResult } from './check-report.js'

type Env = Readonly<Record<string, string | undefined>>

const FILE_PROBLEM = /^(?<file>[^\s:]+\.ya?ml)(?::(?<line>\d+))?:/

/**
 * Problems in a stable reading order: those that name no file (variables, required settings)
 * first, as found; then per file, in the order the files first appear, by line.
 */
export function sortProblems(problems: readonly string[]): string[] {
  const fileOrder = new Map<string, number>()
  const keyed = problems.map((problem, index) => {
    const match = FILE_PROBLEM.exec(problem)
    const file = match?.groups?.file
    if (file !== undefined && !fileOrder.has(file)) fileOrder.set(file, fileOrder.size)
    return {
      problem,
      index,
      file: file === undefined ? -1 : (fileOrder.get(file) ?? 0),
      line: Number(match?.groups?.line ?? 0),
    }
  })
  keyed.sort((a, b) => a.file - b.file || a.line - b.line || a.index - b.index)
  return keyed.map((entry) => entry.problem)
}

/** What the later checks need from a valid configuration. */
export interface LoadedConfig {
  config: Config
  mapping: LoadedMapping
}

function summary(config: Config, mapping: LoadedMapping): string {
  const { rules, users } = mapping.mapping
  const mode =
    config.mode === 'demo'
      ? 'demo mode: no TS_HOST'
      : `${config.production ? 'production' : 'normal'} mode, REST ${config.thoughtspot.authApi} mints`
  return (
    `${config.configFile} and ${config.mappingFile} are valid (${mode}; ` +
    `${config.proxy.allow.length} allowlist entries; mapping: ` +
    `${mapping.mapping.default ? 'a default' : 'no default'}, ${rules.length} rules, ` +
    `${Object.keys(users).length} in users)`
  )
}

/** Loads the configuration as the BFF would; the result carries it when it is valid. */
export function checkConfig(env: Env): { result: CheckResult; loaded?: LoadedConfig } {
  let config: Config
  try {
    config = loadConfig(env)
  } catch (err) {
    if (!(err instanceof StartupError)) throw err
    const problems = sortProblems(err.problems)
    return {
      result: failed(
        'config',
        EXIT.configInvalid,
        `${problems.length} problem(s); the BFF would refuse to start`,
        { problems },
      ),
    }
  }
  // Read again for its warnings and rules; loadConfig has just accepted it.
  const read = loadMappingFile(config.mappingFile, undefined, {
    usernameCase: config.identity.usernameCase,
  })
  if ('problems' in read) {
    return {
      result: failed('config', EXIT.configInvalid, 'the mapping file changed while it was read', {
        problems: read.problems,
      }),
    }
  }
  const warnings = [...config.warnings, ...read.loaded.warnings]
  return {
    result: passed('config', summary(config, read.loaded), { warnings }),
    loaded: { config, mapping: read.loaded },
  }
}
