/**
 * Who is calling: `Authorization: Bearer <app JWT>` first, else the session cookie. An
 * Authorization header that is present but not a valid bearer JWT is refused outright, even when
 * a valid session cookie comes with it: no fall-back.
 */
import type { NextFunction, Request, Response } from 'express'
import type { JWTPayload } from 'jose'
import { BffError } from '../errors.js'
import { scopeOf, type AppUser } from '../scope.js'
import { storedUser } from '../session/store.js'
import { userFromSession } from '../session/user.js'
import { profileClaim, usernameFrom, type UsernameCase } from './username.js'
import type { VerifyJwt } from './verify-jwt.js'

/** Which claims name the user, their email and display name, and how the username is cased. */
export interface ClaimNames {
  usernameClaim: string
  usernameCase: UsernameCase
  emailClaim: string
  displayNameClaim: string
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
    username: usernameFrom(claims, names.usernameClaim, names.usernameCase),
    email: profileClaim(claims, names.emailClaim, 'email'),
    displayName: profileClaim(claims, names.displayNameClaim, 'name'),
    claims,
    via: 'bearer',
    // requiredClaims: ['exp'] guarantees it is there.
    expiresAt: (payload.exp ?? 0) * 1000,
  }
}

function unauthenticated(message: string): BffError {
  return new BffError('UNAUTHENTICATED', message, { headers: { 'WWW-Authenticate': 'Bearer' } })
}

/** Options of {@link createAuthenticate}. */
export interface AuthenticateOptions {
  verify: VerifyJwt
  names: ClaimNames
  now?: () => number
}

/**
 * The two authentication steps: `authenticate` (bearer JWT, else the session cookie) for every
 * route, and `authenticateBearer` (bearer JWT only) for login. Both set `scope.user` or refuse
 * with 401.
 */
export function createAuthenticate(options: Readonly<AuthenticateOptions>) {
  const { verify, names } = options
  const now = options.now ?? Date.now

  async function authenticate(req: Request, res: Response, next: NextFunction): Promise<void> {
    const scope = scopeOf(res)
    const header = req.headers.authorization
    if (header !== undefined) {
      scope.user = await userFromBearer(header, verify, names)
      next()
      return
    }
    const stored = storedUser(req)
    if (stored && stored.expiresAt > now()) {
      scope.user = userFromSession(stored)
      next()
      return
    }
    throw unauthenticated('Sign in first: send a bearer app JWT or the session cookie.')
  }

  async function authenticateBearer(
    req: Request,
    res: Response,
    next: NextFunction,
  ): Promise<void> {
    const header = req.headers.authorization
    if (header === undefined) throw unauthenticated('Log in with Authorization: Bearer <app JWT>.')
    scopeOf(res).user = await userFromBearer(header, verify, names)
    next()
  }

  return { authenticate, authenticateBearer }
}
