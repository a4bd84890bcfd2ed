/**
 * The app JWT key source: a remote JWKS, a PEM/JWK public key file, or an HS256 shared secret —
 * exactly one. Each source fixes the algorithms it accepts, so a token signed with an algorithm
 * that does not fit the key (`none`, HS256 against a public key, …) is refused.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose'
import { StartupError } from '../errors.js'

/** Where app JWT signatures are checked, and which algorithms may sign them. */
export interface KeySource {
  key: KeyObject | Uint8Array | JWTVerifyGetKey
  algorithms: readonly string[]
  describe: string
}

const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const EC_ALGS_BY_CURVE: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
}
/** Every asymmetric algorithm a JWKS may use; symmetric ones can never come from a JWKS. */
const JWKS_ALGS = [...RSA_ALGS, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']

/** How long a JWKS fetch may take. */
export const JWKS_TIMEOUT_MS = 5000
/** How long after a fetch an unknown `kid` may trigger another (stops key-miss floods). */
export const JWKS_COOLDOWN_MS = 30_000

/** Keys from the identity provider's JWKS, fetched when first needed and on unknown `kid`s. */
export function remoteJwksSource(url: string): KeySource {
  return {
    key: createRemoteJWKSet(new URL(url), {
      timeoutDuration: JWKS_TIMEOUT_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
    }),
    algorithms: JWKS_ALGS,
    describe: `JWKS ${url}`,
  }
}

/** A shared HMAC secret (HS256 only). */
export function hs256Source(secret: string): KeySource {
  // A KeyObject built once: raw bytes would make jose import the key again for every request.
  return {
    key: createSecretKey(Buffer.from(secret, 'utf8')),
    algorithms: ['HS256'],
    describe: 'HS256 secret',
  }
}

type KeyFileResult = { source: KeySource } | { problem: string }

function readKeyFile(path: string): KeyFileResult {
  let text: string
  try {
    text = readFileSync(path, 'utf8').trim()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    return { problem: `IDENTITY_PUBLIC_KEY_FILE: cannot read ${path} (${code})` }
  }
  const refuse = (why: string): KeyFileResult => ({
    problem: `IDENTITY_PUBLIC_KEY_FILE: ${path} ${why}`,
  })
  let key: KeyObject
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as Record<string, unknown>
      if ('d' in jwk) return refuse('holds a private JWK; give the public key only')
      key = createPublicKey({ key: jwk as never, format: 'jwk' })
    } else {
      if (/PRIVATE KEY/.test(text)) return refuse('holds a private key; give the public key only')
      key = createPublicKey(text)
    }
  } catch {
    return refuse('is not a PEM public key, certificate or public JWK')
  }
  const algorithms = algorithmsFor(key)
  if (!algorithms) return refuse('holds an unsupported key type')
  return { source: { key, algorithms, describe: `public key file ${path}` } }
}

/** Problems of a public key file (none when it can be used), for the config's one-pass check. */
export function keySourceProblems(path: string): string[] {
  const result = readKeyFile(path)
  return 'problem' in result ? [result.problem] : []
}

/** Reads a PEM (SPKI or certificate) or a public JWK from `path`; private keys are refused. */
export function publicKeyFileSource(path: string): KeySource {
  const result = readKeyFile(path)
  if ('problem' in result) throw new StartupError([result.problem])
  return result.source
}

function algorithmsFor(key: KeyObject): string[] | null {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGS
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512']
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? ''
      const alg = EC_ALGS_BY_CURVE[curve]
      if (alg) return [alg]
      break
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519']
    default:
      break
  }
  return null
}
