/**
 * Loading the configuration in four steps (STYLE §6.6): read the YAML file, overlay the
 * environment, validate everything and collect every problem (naming key and file or variable),
 * then deep-freeze. A problem anywhere stops the start; nothing falls back silently.
 */
import { existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { configSchema, type FileConfig } from './schema.js'
import { applyEnvOverrides, readSecret } from './env.js'
import { describeIssues, readYamlFile } from './yaml-file.js'

type Env = Readonly<Record<string, string | undefined>>

export interface Secrets {
  /** ThoughtSpot's trusted-auth secret key: mints a token for any user. */
  tsSecretKey: string
  /** Session cookie secrets; the first signs, all verify (rotation). */
  sessionSecrets: readonly string[]
  /** Shared HMAC key for HS256 app JWTs, when that is the identity key source. */
  identityHs256Secret: string | null
}

export interface Config extends FileConfig {
  /** `demo` when no ThoughtSpot host is configured outside production (SPEC §2). */
  mode: 'demo' | 'normal'
  production: boolean
  configFile: string
  mappingFile: string
  secrets: Secrets
  /** Warnings to log once the logger exists (e.g. an http:// ThoughtSpot host). */
  warnings: readonly string[]
}

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(problems.join('\n'))
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export const DEFAULT_CONFIG_FILE = 'config/default.yaml'
export const DEFAULT_MAPPING_FILE = 'config/mapping.yaml'

/** Required outside demo mode, named by the variable an operator would set (SPEC §2). */
const REQUIRED_SETTINGS = [
  'TS_HOST',
  'TS_SECRET_KEY',
  'SESSION_SECRET',
  'IDENTITY_JWKS_URL | IDENTITY_PUBLIC_KEY_FILE | IDENTITY_HS256_SECRET',
  'IDENTITY_ISSUER',
  'IDENTITY_AUDIENCE',
] as const

const DEFAULTS = configSchema.parse({}) as unknown as Record<string, unknown>

function knownKeys(keys: readonly PropertyKey[]): string[] {
  let node: unknown = DEFAULTS
  for (const key of keys) {
    if (typeof key === 'number') return ['method', 'path', 'groups'] // proxy.allow[n]
    node = (node as Record<string, unknown> | undefined)?.[key as string]
  }
  return node && typeof node === 'object' ? Object.keys(node) : []
}

export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production'
  const configFile = env.BFF_CONFIG || DEFAULT_CONFIG_FILE
  const mappingFile = env.BFF_MAPPING || DEFAULT_MAPPING_FILE
  const problems: string[] = []

  let tree: Record<string, unknown> = {}
  let lineOf: (keys: readonly PropertyKey[]) => number | undefined = () => undefined
  if (env.BFF_CONFIG || existsSync(configFile)) {
    const result = readYamlFile(configFile)
    if ('problems' in result) throw new ConfigError(result.problems)
    const data = result.file.data
    if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
      throw new ConfigError([`${configFile}: the file must hold a mapping of keys`])
    }
    tree = (data ?? {}) as Record<string, unknown>
    lineOf = result.file.lineOf
  }

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
  if (!parsed.success) {
    throw new ConfigError(describeIssues(parsed.error, whereOf, knownKeys))
  }
  const file = parsed.data

  const secret = (name: string, yamlFile: string | null, yamlKey: string): string | null => {
    const result = readSecret(env, { name, yamlFile, yamlKey: `${configFile}: ${yamlKey}` })
    if ('problem' in result) {
      problems.push(result.problem)
      return null
    }
    return result.value
  }
  const tsSecretKey = secret(
    'TS_SECRET_KEY',
    file.thoughtspot.secretKeyFile,
    'thoughtspot.secretKeyFile',
  )
  const sessionSecretText = secret('SESSION_SECRET', file.session.secretFile, 'session.secretFile')
  const identityHs256Secret = secret(
    'IDENTITY_HS256_SECRET',
    file.identity.hs256SecretFile,
    'identity.hs256SecretFile',
  )
  const sessionSecrets = (sessionSecretText ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)

  const keySources = [
    file.identity.jwksUrl ? 'IDENTITY_JWKS_URL' : null,
    file.identity.publicKeyFile ? 'IDENTITY_PUBLIC_KEY_FILE' : null,
    identityHs256Secret ? 'IDENTITY_HS256_SECRET' : null,
  ].filter((item): item is string => item !== null)
  if (keySources.length > 1) {
    problems.push(`identity: ${keySources.join(' and ')} are all set; choose one key source`)
  }
  if (identityHs256Secret !== null && Buffer.byteLength(identityHs256Secret) < 32) {
    problems.push('IDENTITY_HS256_SECRET: must be at least 32 bytes (HS256 key strength)')
  }
  for (const item of sessionSecrets) {
    if (item.length < 32)
      problems.push('SESSION_SECRET: each secret must be at least 32 characters')
  }

  const mode = !production && file.thoughtspot.host === null ? 'demo' : 'normal'
  if (mode === 'normal') {
    const present: Record<(typeof REQUIRED_SETTINGS)[number], boolean> = {
      TS_HOST: file.thoughtspot.host !== null,
      TS_SECRET_KEY: tsSecretKey !== null,
      SESSION_SECRET: sessionSecrets.length > 0 || !production,
      'IDENTITY_JWKS_URL | IDENTITY_PUBLIC_KEY_FILE | IDENTITY_HS256_SECRET': keySources.length > 0,
      IDENTITY_ISSUER: file.identity.issuer !== null,
      IDENTITY_AUDIENCE: file.identity.audience !== null,
    }
    const missing = REQUIRED_SETTINGS.filter((name) => !present[name])
    if (missing.length > 0) {
      const why = production ? 'NODE_ENV=production' : 'TS_HOST is set (not demo mode)'
      problems.unshift(`missing required setting(s) (${why}): ${missing.join(', ')}`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)

  const warnings: string[] = []
  if (file.thoughtspot.host?.startsWith('http://')) {
    warnings.push(
      `thoughtspot.host ${file.thoughtspot.host} is plain http: tokens cross the network unencrypted`,
    )
  }
  if (sessionSecrets.length === 0) {
    warnings.push('SESSION_SECRET is not set: using a random one, so sessions end at restart')
  }
  const halfValidity = Math.floor(file.tokens.validitySeconds / 2)
  if (file.tokens.minRemainingSeconds > halfValidity) {
    warnings.push(
      `tokens.minRemainingSeconds ${file.tokens.minRemainingSeconds} is more than half of validitySeconds; using ${halfValidity}`,
    )
    file.tokens.minRemainingSeconds = halfValidity
  }

  return deepFreeze({
    ...file,
    mode,
    production,
    configFile,
    mappingFile,
    secrets: {
      tsSecretKey: tsSecretKey ?? '',
      // Outside production a missing session secret is replaced by a random one (warned above).
      sessionSecrets:
        sessionSecrets.length > 0 ? sessionSecrets : [randomBytes(32).toString('base64url')],
      identityHs256Secret,
    },
    warnings,
  })
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
