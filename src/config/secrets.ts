/**
 * The secrets of the config: never in the YAML tree, read from the environment (`X`) or a file
 * (`X_FILE`, or the YAML `…File` key), each problem collected rather than thrown.
 */
import type { FileConfig } from './schema.js'
import { readSecret } from './env.js'

type Env = Readonly<Record<string, string | undefined>>

/** The secrets the BFF holds. */
export interface Secrets {
  /** ThoughtSpot's trusted-auth secret key: mints a token for any user. */
  tsSecretKey: string
  /** Session cookie secrets; the first signs, all verify (rotation). */
  sessionSecrets: readonly string[]
  /** Shared HMAC key for HS256 app JWTs, when that is the identity key source. */
  identityHs256Secret: string | null
}

/** Secrets as read, before the required-settings check: null where none was given. */
export interface ReadSecrets {
  tsSecretKey: string | null
  sessionSecrets: string[]
  identityHs256Secret: string | null
}

/** Shortest session secret accepted (it signs cookies: guessable means forgeable sessions). */
export const MIN_SESSION_SECRET_LENGTH = 32
/** Shortest HS256 key accepted (RFC 7518 §3.2: at least the hash output, 256 bits). */
export const MIN_HS256_SECRET_BYTES = 32

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
  if (
    identityHs256Secret !== null &&
    Buffer.byteLength(identityHs256Secret) < MIN_HS256_SECRET_BYTES
  ) {
    problems.push(
      `IDENTITY_HS256_SECRET: must be at least ${MIN_HS256_SECRET_BYTES} bytes (HS256 key strength)`,
    )
  }
  if (sessionSecrets.some((item) => item.length < MIN_SESSION_SECRET_LENGTH)) {
    problems.push(
      `SESSION_SECRET: each secret must be at least ${MIN_SESSION_SECRET_LENGTH} characters`,
    )
  }
  return { tsSecretKey, sessionSecrets, identityHs256Secret }
}

/** `a,b,c` → the rotation list: the first signs, all verify. */
export function splitSessionSecrets(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
}
