/**
 * Loading the configuration in four steps: read the YAML file, overlay the environment, validate
 * everything — the schema, the secrets, the settings production requires, and the checks that
 * involve the allowlist, the mapping file and the identity key file — collecting every problem
 * (naming key and file or variable), then deep-freeze. A problem anywhere stops the start with
 * all of them; nothing is corrected or falls back silently.
 */
import { existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { StartupError } from '../errors.js'
import {
  consistencyProblems,
  crossFileProblems,
  mappingProblems,
  requiredProblems,
  sessionCookieName,
  sessionCookieProblems,
} from './checks.js'
import {
  applyEnvOverrides,
  misspeltVariables,
  misspeltWarning,
  secretGiven,
  SECRET_VARIABLES,
} from './env.js'
import { configSchema, type FileConfig } from './schema.js'
import { readSecrets, type ReadSecrets, type Secrets } from './secrets.js'
import { describeIssues, readYamlFile } from './yaml-file.js'

export type { Secrets } from './secrets.js'

type Env = Readonly<Record<string, string | undefined>>

/** The loaded, validated and frozen configuration. */
export interface Config extends FileConfig {
  /** `demo` when no ThoughtSpot host is configured outside production. */
  mode: 'demo' | 'normal'
  production: boolean
  configFile: string
  mappingFile: string
  secrets: Secrets
  /** Warnings to log once the logger exists (e.g. an http:// ThoughtSpot host). */
  warnings: readonly string[]
}

/** `BFF_CONFIG` when unset. */
export const DEFAULT_CONFIG_FILE = 'config/default.yaml'
/** `BFF_MAPPING` when unset. */
export const DEFAULT_MAPPING_FILE = 'config/mapping.yaml'

const DEFAULTS = configSchema.parse({}) as unknown as Record<string, unknown>

/** The keys the schema knows at `keys`, for "did you mean" hints. */
function knownKeys(keys: readonly PropertyKey[]): string[] {
  let node: unknown = DEFAULTS
  for (const key of keys) {
    if (typeof key === 'number') return ['method', 'path', 'groups'] // proxy.allow[n]
    node = (node as Record<string, unknown> | undefined)?.[key as string]
  }
  return node && typeof node === 'object' ? Object.keys(node) : []
}

interface ConfigTree {
  tree: Record<string, unknown>
  lineOf: (keys: readonly PropertyKey[]) => number | undefined
}

/** Step 1: the YAML file as a plain tree, with line numbers. A missing default file is empty. */
function readConfigTree(configFile: string, explicit: boolean): ConfigTree {
  if (!explicit && !existsSync(configFile)) return { tree: {}, lineOf: () => undefined }
  const result = readYamlFile(configFile)
  if ('problems' in result) throw new StartupError(result.problems)
  const data = result.file.data
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    throw new StartupError([`${configFile}: the file must hold a mapping of keys`])
  }
  return { tree: (data ?? {}) as Record<string, unknown>, lineOf: result.file.lineOf }
}

/** Step 2 and the schema half of step 3: env over YAML, parsed; problems name their source. */
function parseTree(
  { tree, lineOf }: ConfigTree,
  env: Env,
  configFile: string,
): { file: FileConfig } | { problems: string[] } {
  const envSources = applyEnvOverrides(tree, env)
  const whereOf = (keys: readonly PropertyKey[]): string => {
    // The key itself or a parent (e.g. server.cors.origins.0 came from CORS_ORIGINS).
    for (let depth = keys.length; depth > 0; depth--) {
      const variable = envSources.get(keys.slice(0, depth).join('.'))
      if (variable) return `environment variable ${variable}`
    }
    const line = lineOf(keys)
    return `${configFile}${line ? `:${line}` : ''}`
  }
  const parsed = configSchema.safeParse(tree)
  return parsed.success
    ? { file: parsed.data }
    : { problems: describeIssues(parsed.error, whereOf, knownKeys) }
}

/** Secrets given (by variable, file variable or YAML key) that did not yield a value. */
function unreadSecretsOf(env: Env, file: FileConfig, secrets: ReadSecrets): Set<string> {
  const given: Record<(typeof SECRET_VARIABLES)[number], [string | null, boolean]> = {
    TS_SECRET_KEY: [file.thoughtspot.secretKeyFile, secrets.tsSecretKey !== null],
    SESSION_SECRET: [file.session.secretFile, secrets.sessionSecrets.length > 0],
    IDENTITY_HS256_SECRET: [file.identity.hs256SecretFile, secrets.identityHs256Secret !== null],
  }
  return new Set(
    SECRET_VARIABLES.filter((name) => {
      const [yamlFile, read] = given[name]
      return !read && secretGiven(env, name, yamlFile)
    }),
  )
}

function warningsOf(file: FileConfig, sessionSecretsGiven: boolean): string[] {
  const warnings: string[] = []
  if (file.thoughtspot.host?.startsWith('http://')) {
    warnings.push(
      `thoughtspot.host ${file.thoughtspot.host} is plain http: tokens cross the network unencrypted`,
    )
  }
  if (!sessionSecretsGiven) {
    warnings.push('SESSION_SECRET is not set: using a random one, so sessions end at restart')
  }
  return warnings
}

/**
 * Loads the configuration from `env` (the process environment by default) or throws a
 * {@link StartupError} listing every problem.
 *
 * @example
 * const config = loadConfig({ TS_HOST: 'https://acme.thoughtspot.cloud', ... })
 */
export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production'
  const configFile = env.BFF_CONFIG || DEFAULT_CONFIG_FILE
  const mappingFile = env.BFF_MAPPING || DEFAULT_MAPPING_FILE

  const parsed = parseTree(readConfigTree(configFile, Boolean(env.BFF_CONFIG)), env, configFile)
  if ('problems' in parsed) {
    // The mapping file does not depend on the config's values: report its problems too.
    throw new StartupError([...parsed.problems, ...mappingProblems(mappingFile, 'v2')])
  }
  const file = parsed.file

  const problems: string[] = []
  const secrets = readSecrets(env, file, configFile, problems)
  const misspelt = misspeltVariables(env)
  const mode = !production && file.thoughtspot.host === null ? 'demo' : 'normal'
  if (mode === 'normal') {
    const unreadSecrets = unreadSecretsOf(env, file, secrets)
    problems.unshift(...requiredProblems(file, secrets, { production, unreadSecrets, misspelt }))
  }
  problems.push(
    ...sessionCookieProblems(file, mode),
    ...consistencyProblems(file, secrets),
    ...crossFileProblems(file, { configFile, mappingFile }),
  )
  if (problems.length > 0) throw new StartupError(problems)

  return deepFreeze({
    ...file,
    session: { ...file.session, cookieName: sessionCookieName(file.session.cookieName, mode) },
    mode,
    production,
    configFile,
    mappingFile,
    secrets: {
      tsSecretKey: secrets.tsSecretKey ?? '',
      orgSecretKeys: secrets.orgSecretKeys,
      // Outside production a missing session secret is replaced by a random one (warned).
      sessionSecrets:
        secrets.sessionSecrets.length > 0
          ? secrets.sessionSecrets
          : [randomBytes(32).toString('base64url')],
      identityHs256Secret: secrets.identityHs256Secret,
      files: secrets.files,
    },
    warnings: [
      ...warningsOf(file, secrets.sessionSecrets.length > 0),
      ...misspelt.map(misspeltWarning),
    ],
  })
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
