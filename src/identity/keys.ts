/**
 * The app JWT key source: a remote JWKS, a PEM/JWK public key file, or an HS256 shared secret —
 * exactly one. Each source fixes the algorithms it accepts, so a token signed with an algorithm
 * that does not fit the key (`none`, HS256 against a public key, …) is refused.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { JWTVerifyGetKey } from 'jose'
import { StartupError } from '../errors.js'
import type { ReadinessCheck } from '../http/health.js'
import { EC_ALGS_BY_CURVE, EDDSA_ALGS, RSA_ALGS } from './algorithms.js'

/** Where app JWT signatures are checked, and which algorithms may sign them. */
export interface KeySource {
  key: KeyObject | Uint8Array | JWTVerifyGetKey
  algorithms: readonly string[]
  describe: string
  /** A source that must be fetched before logins can work (a JWKS) says so to /readyz. */
  readiness?: ReadinessCheck
  /** Stops what the source does in the background (the JWKS's first-fetch retries). */
  close?: () => void
}

export { remoteJwksSource, JWKS_COOLDOWN_MS, JWKS_TIMEOUT_MS } from './jwks.js'

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
      return EDDSA_ALGS
    default:
      break
  }
  return null
}
