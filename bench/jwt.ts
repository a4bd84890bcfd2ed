/**
 * App JWTs the way the app's identity provider would issue them: HS256 with the secret the BFF
 * is given as IDENTITY_HS256_SECRET, `iss`, `aud`, `sub`, `iat` and a day-long `exp` (no expiry
 * mid-run).
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'

/** The app identity provider's HS256 secret, issuer and audience. */
export interface Identity {
  secret: string
  issuer: string
  audience: string
}

const DAY_SECONDS = 86_400

/** Signs app JWTs for one identity provider; the key is built once. */
export function jwtSigner(identity: Identity): (sub: string) => Promise<string> {
  const key: KeyObject = createSecretKey(Buffer.from(identity.secret, 'utf8'))
  return (sub) => {
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT({ sub })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(identity.issuer)
      .setAudience(identity.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + DAY_SECONDS)
      .sign(key)
  }
}

/** Signs `count` JWTs for users `${prefix}0…`, a few hundred at a time. */
export async function signMany(
  sign: (sub: string) => Promise<string>,
  prefix: string,
  count: number,
): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < count; i += 500) {
    const batch = Array.from({ length: Math.min(500, count - i) }, (_, j) =>
      sign(`${prefix}${i + j}`),
    )
    out.push(...(await Promise.all(batch)))
  }
  return out
}
