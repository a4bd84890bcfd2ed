/**
 * The secrets of the config: never in the YAML tree, read from the environment (`X`) or a file
 * (`X_FILE`, or the YAML `…File` key), each problem collected rather than thrown. Where a secret
 * came from a file is kept, so that `secret-holder.ts` can read it again when it rotates.
 */
import type { FileConfig } from './schema.js'
import { readSecret } from './env.js'

type Env = Readonly<Record<string, string | undefined>>

/** A file a secret was read from, and the setting that named it (for messages). */
export interface SecretFile {
  path: string
  /** `TS_SECRET_KEY_FILE`, or the config file and key: `config.yaml: thoughtspot.secretKeyFile`. */
  origin: string
}

/** The files the secrets came from; null where a secret was inline or not given. */
export interface SecretFiles {
  tsSecretKey: SecretFile | null
  sessionSecrets: SecretFile | null
  identityHs256Secret: SecretFile | null
  /** One per org of `thoughtspot.orgSecretKeyFiles`. */
  orgSecretKeys: Readonly<Record<string, SecretFile>>
}

/** The secrets the BFF holds. */
export interface Secrets {
  /** ThoughtSpot's trusted-auth secret key: mints a token for any user. */
  tsSecretKey: string
  /** Keys of orgs with one of their own (org id → key); other orgs use `tsSecretKey`. */
  orgSecretKeys: Readonly<Record<string, string>>
  /** Session cookie secrets; the first signs, all verify (rotation). */
  sessionSecrets: readonly string[]
  /** Shared HMAC key for HS256 app JWTs, when that is the identity key source. */
  identityHs256Secret: string | null
  /** Where they were read from: what SIGHUP and a file change read again. */
  files: SecretFiles
}

/** Secrets as read, before the required-settings check: null where none was given. */
export interface ReadSecrets {
  tsSecretKey: string | null
  orgSecretKeys: Record<string, string>
  sessionSecrets: string[]
  identityHs256Secret: string | null
  files: SecretFiles
}

/** Shortest session secret accepted (it signs cookies: guessable means forgeable sessions). */
export const MIN_SESSION_SECRET_LENGTH = 32
/** Shortest HS256 key accepted (RFC 7518 §3.2: at least the hash output, 256 bits). */
export const MIN_HS256_SECRET_BYTES = 32

/** The file `readSecret` reads for `name` (the variable wins over the YAML key), if any. */
function fileOf(
  env: Env,
  name: string,
  yamlFile: string | null,
  yamlKey: string,
): SecretFile | null {
  if (env[name]) return null
  const fromEnv = env[`${name}_FILE`]
  if (fromEnv) return { path: fromEnv, origin: `${name}_FILE` }
  return yamlFile ? { path: yamlFile, origin: yamlKey } : null
}

/** Reads every secret; problems are appended to `problems`, one line each. */
export function readSecrets(
  env: Env,
  file: FileConfig,
  configFile: string,
  problems: string[],
): ReadSecrets {
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
  const sessionSecrets = splitSessionSecrets(sessionSecretText ?? '')
  problems.push(...hs256SecretProblems(identityHs256Secret))
  problems.push(...sessionSecretProblems(sessionSecrets))
  const where = (yamlKey: string): string => `${configFile}: ${yamlKey}`
  const org = readOrgSecretKeys(file.thoughtspot.orgSecretKeyFiles, where, problems)
  return {
    tsSecretKey,
    orgSecretKeys: org.keys,
    sessionSecrets,
    identityHs256Secret,
    files: {
      tsSecretKey: fileOf(
        env,
        'TS_SECRET_KEY',
        file.thoughtspot.secretKeyFile,
        where('thoughtspot.secretKeyFile'),
      ),
      sessionSecrets: fileOf(
        env,
        'SESSION_SECRET',
        file.session.secretFile,
        where('session.secretFile'),
      ),
      identityHs256Secret: fileOf(
        env,
        'IDENTITY_HS256_SECRET',
        file.identity.hs256SecretFile,
        where('identity.hs256SecretFile'),
      ),
      orgSecretKeys: org.files,
    },
  }
}

/** `thoughtspot.orgSecretKeyFiles`: each file read like every `*_FILE` (trimmed, not empty). */
function readOrgSecretKeys(
  paths: Readonly<Record<string, string>>,
  where: (yamlKey: string) => string,
  problems: string[],
): { keys: Record<string, string>; files: Record<string, SecretFile> } {
  const keys: Record<string, string> = {}
  const files: Record<string, SecretFile> = {}
  for (const [orgId, path] of Object.entries(paths)) {
    const source: SecretFile = { path, origin: where(`thoughtspot.orgSecretKeyFiles.${orgId}`) }
    files[orgId] = source
    const result = readSecretFile(source)
    if ('problem' in result) problems.push(result.problem)
    else keys[orgId] = result.value
  }
  return { keys, files }
}

/** Reads one secret file (trailing whitespace trimmed); an unreadable or empty one is a problem. */
export function readSecretFile(source: SecretFile): { value: string } | { problem: string } {
  const result = readSecret({}, { name: '', yamlFile: source.path, yamlKey: source.origin })
  if ('problem' in result) return result
  return result.value === null ? { problem: `${source.origin}: no file` } : { value: result.value }
}

/** Why an HS256 secret cannot be used; empty when it can (or when there is none). */
export function hs256SecretProblems(secret: string | null): string[] {
  return secret !== null && Buffer.byteLength(secret) < MIN_HS256_SECRET_BYTES
    ? [
        `IDENTITY_HS256_SECRET: must be at least ${MIN_HS256_SECRET_BYTES} bytes (HS256 key strength)`,
      ]
    : []
}

/** Why a list of session secrets cannot be used; empty when it can (or when it is empty). */
export function sessionSecretProblems(secrets: readonly string[]): string[] {
  return secrets.some((item) => item.length < MIN_SESSION_SECRET_LENGTH)
    ? [`SESSION_SECRET: each secret must be at least ${MIN_SESSION_SECRET_LENGTH} characters`]
    : []
}

/** `a,b,c` → the rotation list: the first signs, all verify. */
export function splitSessionSecrets(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
}
