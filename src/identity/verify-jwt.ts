/**
 * Verifies an app JWT with jose (SPEC §3): signature against the key source and only its
 * algorithms, `iss`, `aud`, `exp` (required), `nbf`, with a small clock tolerance. jose's errors
 * are mapped here, where they arise, to INVALID_TOKEN with a message that names what failed.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose'
import { BffError } from '../errors.js'
import type { KeySource } from './keys.js'

/** What every app JWT must satisfy besides its signature. */
export interface JwtRules {
  issuer: string
  audience: string
  clockToleranceSeconds: number
}

/** Verifies an app JWT; resolves to its payload or throws INVALID_TOKEN (or UPSTREAM_UNAVAILABLE when keys cannot be fetched). */
export type VerifyJwt = (jwt: string) => Promise<JWTPayload>

/** A JWT is three base64url parts; anything larger than this is not an app JWT. */
const MAX_JWT_LENGTH = 8192

/** The verifier for a key source and rules. */
export function createJwtVerifier(
  source: KeySource,
  rules: Readonly<JwtRules>,
  now: () => number = Date.now,
): VerifyJwt {
  const options = {
    issuer: rules.issuer,
    audience: rules.audience,
    algorithms: [...source.algorithms],
    clockTolerance: rules.clockToleranceSeconds,
    requiredClaims: ['exp'],
  }
  return async function verifyAppJwt(jwt) {
    if (jwt.length > MAX_JWT_LENGTH || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(jwt)) {
      throw new BffError('INVALID_TOKEN', 'The bearer token is not a well-formed JWT.')
    }
    try {
      const currentDate = new Date(now())
      const { payload } =
        source.key instanceof Function
          ? await jwtVerify(jwt, source.key, { ...options, currentDate })
          : await jwtVerify(jwt, source.key, { ...options, currentDate })
      return payload
    } catch (err) {
      throw mapJoseError(err)
    }
  }
}

function mapJoseError(err: unknown): BffError {
  if (err instanceof BffError) return err
  if (err instanceof errors.JWTExpired) {
    return new BffError('INVALID_TOKEN', 'The bearer token has expired.', { cause: err })
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new BffError(
      'INVALID_TOKEN',
      `The bearer token's "${err.claim}" claim is not acceptable (${err.reason}).`,
      {
        cause: err,
      },
    )
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new BffError(
      'INVALID_TOKEN',
      'The bearer token is signed with an algorithm that is not allowed.',
      {
        cause: err,
      },
    )
  }
  if (
    err instanceof errors.JWKSTimeout ||
    err instanceof errors.JWKSInvalid ||
    (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC')
  ) {
    // The identity provider's fault, not the token's (the JWKS fetch logged URL and status).
    return keysUnavailable(err)
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return new BffError('INVALID_TOKEN', 'The bearer token is signed by an unknown key.', {
      cause: err,
    })
  }
  if (err instanceof errors.JOSEError) {
    return new BffError(
      'INVALID_TOKEN',
      'The bearer token is not valid (malformed or bad signature).',
      {
        cause: err,
      },
    )
  }
  if (err instanceof TypeError || err instanceof SyntaxError) {
    // Fetch failures surface as TypeError; malformed headers as SyntaxError. Neither is a 500.
    return err instanceof TypeError && /fetch/i.test(err.message)
      ? keysUnavailable(err)
      : new BffError('INVALID_TOKEN', 'The bearer token is not a well-formed JWT.', { cause: err })
  }
  return new BffError('INVALID_TOKEN', 'The bearer token could not be verified.', { cause: err })
}

function keysUnavailable(cause: unknown): BffError {
  return new BffError(
    'UPSTREAM_UNAVAILABLE',
    "The identity provider's signing keys could not be fetched.",
    { cause },
  )
}
