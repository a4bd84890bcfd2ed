/**
 * App JWTs for tests, signed the way an identity provider would — and the nasty variants:
 * alg none, the wrong key, expired, not yet valid, no exp, algorithm confusion.
 */
import { generateKeyPairSync, createHmac, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'

export const TEST_ISSUER = 'https://idp.test.example'
export const TEST_AUDIENCE = 'thoughtspot-bff-test'
export const TEST_HS256_SECRET = 'test-hs256-secret-that-is-long-enough-0123456789'

export interface SignOptions {
  now: () => number
  /** Seconds from now; `null` = no exp claim at all. Default 600. */
  expiresIn?: number | null
  notBefore?: number
  issuer?: string
  audience?: string
  secret?: string
  key?: KeyObject
  alg?: string
  /** The `kid` header, naming which key of a JWKS signed it. */
  kid?: string
}

export async function signAppJwt(
  claims: Record<string, unknown>,
  options: SignOptions,
): Promise<string> {
  const nowSeconds = Math.floor(options.now() / 1000)
  const alg = options.alg ?? (options.key ? 'RS256' : 'HS256')
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT', ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt(nowSeconds)
  const expiresIn = options.expiresIn === undefined ? 600 : options.expiresIn
  if (expiresIn !== null) jwt.setExpirationTime(nowSeconds + expiresIn)
  if (options.notBefore !== undefined) jwt.setNotBefore(nowSeconds + options.notBefore)
  return jwt.sign(options.key ?? new TextEncoder().encode(options.secret ?? TEST_HS256_SECRET))
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned token: `alg: none` with an empty signature. */
export function unsignedJwt(claims: Record<string, unknown>, now: () => number): string {
  const nowSeconds = Math.floor(now() / 1000)
  const payload = {
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: nowSeconds,
    exp: nowSeconds + 600,
    ...claims,
  }
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`
}

/** HS256 signed with `secret` as raw bytes: the classic confusion of an RSA public key's PEM. */
export function hmacSignedJwt(
  claims: Record<string, unknown>,
  secret: string | Buffer,
  now: () => number,
): string {
  const nowSeconds = Math.floor(now() / 1000)
  const payload = {
    iss: TEST_ISSUER,
    aud: TEST_AUDIENCE,
    iat: nowSeconds,
    exp: nowSeconds + 600,
    ...claims,
  }
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

export function rsaKeyPair(): { publicKey: KeyObject; privateKey: KeyObject; publicPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    publicKey,
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}
