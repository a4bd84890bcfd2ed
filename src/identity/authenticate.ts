/**
 * Who is calling (SPEC §3): `Authorization: Bearer <app JWT>` first, else the session cookie.
 * An Authorization header that is present but not a valid bearer JWT is refused outright, even
 * when a valid session cookie comes with it: no fall-back.
 */
import type { NextFunction, Request, Response } from 'express'
import type { JWTPayload } from 'jose'
import { BffError } from '../errors.js'
import { scopeOf, type AppUser } from '../scope.js'
import { profileClaim, usernameFrom } from './username.js'
import type { VerifyJwt } from './verify-jwt.js'

export interface ClaimNames {
  usernameClaim: string
  emailClaim: string
  displayNameClaim: string
}

/** What a login stores in the session: enough to rebuild the AppUser without the JWT. */
export interface SessionUser {
  username: string
  email: string | null
  displayName: string | null
  claims: Record<string, unknown>
  /** Epoch ms when the session ends (absolute, not sliding). */
  expiresAt: number
}

declare module 'express-session' {
  interface SessionData {
    user: SessionUser
  }
}

/** `Bearer <token>`, case-insensitive scheme, exactly one space-free credential. */
export function bearerTokenOf(header: string): string {
  const match = /^Bearer +([^\s]+) *$/i.exec(header)
  if (!match?.[1]) {
    throw new BffError('INVALID_TOKEN', 'The Authorization header must be "Bearer <app JWT>".')
  }
  return match[1]
}

/** Verifies a bearer app JWT and turns its claims into the request's user. */
export async function userFromBearer(
  header: string,
  verify: VerifyJwt,
  names: ClaimNames,
): Promise<AppUser> {
  const payload: JWTPayload = await verify(bearerTokenOf(header))
  const claims = payload as Record<string, unknown>
  return {
    username: usernameFrom(claims, names.usernameClaim),
    email: profileClaim(claims, names.emailClaim, 'email'),
    displayName: profileClaim(claims, names.displayNameClaim, 'name'),
    claims,
    via: 'bearer',
    // requiredClaims: ['exp'] guarantees it is there.
    expiresAt: (payload.exp ?? 0) * 1000,
  }
}

export function createAuthenticate(
  verify: VerifyJwt,
  names: ClaimNames,
  now: () => number = Date.now,
) {
  return async function authenticate(
    req: Request,
    res: Response,
    next: NextFunction,
  ): Promise<void> {
    const scope = scopeOf(res)
    const header = req.headers.authorization
    if (header !== undefined) {
      scope.user = await userFromBearer(header, verify, names)
      next()
      return
    }
    const stored = req.session.user
    if (stored && stored.expiresAt > now()) {
      scope.user = {
        username: stored.username,
        email: stored.email,
        displayName: stored.displayName,
        claims: stored.claims,
        via: 'session',
        expiresAt: stored.expiresAt,
      }
      next()
      return
    }
    throw new BffError(
      'UNAUTHENTICATED',
      'Sign in first: send a bearer app JWT or the session cookie.',
      {
        headers: { 'WWW-Authenticate': 'Bearer' },
      },
    )
  }
}
