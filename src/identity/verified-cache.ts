/**
 * App JWTs already verified, by their exact text, until they expire: a browser sends the same
 * bearer JWT on every call, and verifying it (an HMAC through WebCrypto, or an RSA/EC signature)
 * is the largest single cost of a proxied call. A hit is re-checked against the clock (`exp`
 * with the same tolerance); only successful verifications are kept, so a forged token is
 * verified (and refused) every time. Bounded: the oldest entries go first.
 *
 * What it trades: a JWT verified once stays accepted until its `exp` even if its signing key is
 * then removed from the identity provider's JWKS (jose caches the JWKS itself for minutes too),
 * and `clear()` must be called when the key source changes (secret rotation).
 */
import type { JWTPayload } from 'jose'
import { deepFreeze } from '../config/load.js'
import type { VerifyJwt } from './verify-jwt.js'

/** Verified JWTs kept per replica; beyond it the oldest are verified again when they come back. */
export const VERIFIED_JWT_CACHE_SIZE = 10_000

/** A verifier that remembers what it verified; `clear()` forgets everything. */
export interface CachingVerifier extends VerifyJwt {
  clear(): void
}

/** Wraps `verify` with the cache. The payloads it returns are frozen: they are shared. */
export function cachingVerifier(
  verify: VerifyJwt,
  options: { clockToleranceSeconds: number; now?: () => number; maxEntries?: number },
): CachingVerifier {
  const now = options.now ?? Date.now
  const maxEntries = options.maxEntries ?? VERIFIED_JWT_CACHE_SIZE
  const toleranceMs = options.clockToleranceSeconds * 1000
  const verified = new Map<string, { payload: JWTPayload; until: number }>()

  const cached = async function verifyCached(jwt: string): Promise<JWTPayload> {
    const hit = verified.get(jwt)
    if (hit) {
      if (hit.until > now()) return hit.payload
      // Expired since: verify again, which refuses it with the usual message.
      verified.delete(jwt)
    }
    const payload = deepFreeze(await verify(jwt))
    // `exp` is required by the verifier; without it nothing is kept.
    if (typeof payload.exp === 'number') {
      if (verified.size >= maxEntries) {
        const oldest = verified.keys().next().value
        if (oldest !== undefined) verified.delete(oldest)
      }
      verified.set(jwt, { payload, until: payload.exp * 1000 + toleranceMs })
    }
    return payload
  }
  return Object.assign(cached, { clear: () => verified.clear() })
}
