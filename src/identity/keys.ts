/**
 * The app JWT key source (SPEC §3): a remote JWKS, a PEM/JWK public key file, or an HS256 shared
 * secret — exactly one. Each source fixes the algorithms it accepts, so a token signed with an
 * algorithm that does not fit the key (`none`, HS256 against a public key, …) is refused.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose'

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

export class KeySourceError extends Error {
  override name = 'KeySourceError'
}

export function remoteJwksSource(url: string): KeySource {
  return {
    key: createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000 }),
    algorithms: JWKS_ALGS,
    describe: `JWKS ${url}`,
  }
}

export function hs256Source(secret: string): KeySource {
  // A KeyObject built once: raw bytes would make jose import the key again for every request.
  return {
    key: createSecretKey(Buffer.from(secret, 'utf8')),
    algorithms: ['HS256'],
    describe: 'HS256 secret',
  }
}

/** Reads a PEM (SPKI or certificate) or a public JWK from `path`; private keys are refused. */
export function publicKeyFileSource(path: string): KeySource {
  let text: string
  try {
    text = readFileSync(path, 'utf8').trim()
  } catch (err) {
    throw new KeySourceError(
      `IDENTITY_PUBLIC_KEY_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    )
  }
  let key: KeyObject
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as Record<string, unknown>
      if ('d' in jwk) throw new KeySourceError('holds a private JWK; give the public key only')
      key = createPublicKey({ key: jwk as never, format: 'jwk' })
    } else {
      if (/PRIVATE KEY/.test(text))
        throw new KeySourceError('holds a private key; give the public key only')
      key = createPublicKey(text)
    }
  } catch (err) {
    const why =
      err instanceof KeySourceError
        ? err.message
        : 'is not a PEM public key, certificate or public JWK'
    throw new KeySourceError(`IDENTITY_PUBLIC_KEY_FILE: ${path} ${why}`)
  }
  return { key, algorithms: algorithmsFor(key, path), describe: `public key file ${path}` }
}

function algorithmsFor(key: KeyObject, path: string): string[] {
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
  throw new KeySourceError(`IDENTITY_PUBLIC_KEY_FILE: ${path} holds an unsupported key type`)
}
