/**
 * The identity key source: the JWKS fetched once (exactly as the BFF fetches it: how many keys,
 * which algorithms, which kids, why a key cannot be used), the public key file read, or the
 * HS256 secret named (never shown). Also what every app JWT must carry.
 */
import type { KeyObject } from 'node:crypto'
import type { Config } from '../config/load.js'
import { fetchJwks, JWKS_TIMEOUT_MS, type JwkSummary } from '../identity/jwks.js'
import { publicKeyFileSource } from '../identity/keys.js'
import { EXIT, failed, passed, type CheckResult } from './check-report.js'

function describeKey(key: JwkSummary): string {
  const kid = key.kid === null ? 'no kid' : `kid "${key.kid}"`
  return key.usable
    ? `${kid}: ${key.kty}, ${key.algorithms.join(' ')}`
    : `${kid}: ${key.kty}, not usable (${key.why ?? 'unknown reason'})`
}

function rulesNote(config: Config): string {
  const { issuer, audience, usernameClaim } = config.identity
  return `app JWTs must have iss "${issuer ?? '?'}", aud "${audience ?? '?'}", exp, and the username in "${usernameClaim}"`
}

async function checkJwks(url: string, config: Config): Promise<CheckResult> {
  const { outcome } = await fetchJwks(url, {
    method: 'GET',
    redirect: 'manual',
    headers: { accept: 'application/json, application/jwk-set+json' },
    signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
  })
  if (!outcome.ok) {
    return failed(
      'identity',
      EXIT.dependency,
      `the identity provider's JWKS at ${url} cannot be used: ${outcome.problem}`,
    )
  }
  const usable = outcome.keys.filter((key) => key.usable)
  const algorithms = [...new Set(usable.flatMap((key) => key.algorithms))]
  const unusable = outcome.keys.filter((key) => !key.usable)
  return passed(
    'identity',
    `JWKS ${url}: HTTP ${outcome.status}, ${outcome.keys.length} key(s), ${usable.length} usable (${algorithms.join(', ')})`,
    {
      notes: [...usable.map(describeKey), rulesNote(config)],
      warnings: unusable.map((key) => `JWKS key ${describeKey(key)}: ignored`),
    },
  )
}

/** Checks the configured key source; `config` is valid and not in demo mode. */
export async function checkIdentity(config: Config): Promise<CheckResult> {
  const { jwksUrl, publicKeyFile } = config.identity
  if (jwksUrl) return checkJwks(jwksUrl, config)
  if (publicKeyFile) {
    const source = publicKeyFileSource(publicKeyFile)
    const type = (source.key as KeyObject).asymmetricKeyType ?? 'unknown'
    return passed(
      'identity',
      `public key file ${publicKeyFile}: ${type} key, verifies ${source.algorithms.join(' ')}`,
      { notes: [rulesNote(config)] },
    )
  }
  return passed('identity', 'HS256 shared secret (IDENTITY_HS256_SECRET): verifies HS256', {
    notes: [rulesNote(config)],
  })
}
