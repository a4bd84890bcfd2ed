/**
 * One typed scope per request (STYLE §6.4), kept on `res.locals.scope`. Every middleware reads
 * and writes it; nothing is added to `req` ad hoc.
 */
import type { Response } from 'express'
import type { Logger } from './observability/logger.js'
import type { Access } from './mapping/evaluate.js'

/** Who the request is, once `identity/authenticate` has run. */
export interface AppUser {
  username: string
  email: string | null
  displayName: string | null
  /** The verified app-JWT claims: the mapping's input. */
  claims: Readonly<Record<string, unknown>>
  /** How the request proved it: a bearer JWT is CSRF-exempt, a session cookie is not. */
  via: 'bearer' | 'session'
  /** When the credential ends: the JWT's `exp` or the session's end (epoch ms). */
  expiresAt: number
}

export interface RequestScope {
  requestId: string
  log: Logger
  startedAt: number
  user?: AppUser
  access?: Access
}

export function scopeOf(res: Response): RequestScope {
  const scope = (res.locals as { scope?: RequestScope }).scope
  if (!scope) throw new Error('request scope missing: request-id middleware must run first')
  return scope
}

/** The authenticated user, for routes mounted after `authenticate`. */
export function userOf(res: Response): AppUser {
  const user = scopeOf(res).user
  if (!user) throw new Error('user missing: authenticate must run before this middleware')
  return user
}

export function accessOf(res: Response): Access {
  const access = scopeOf(res).access
  if (!access) throw new Error('access missing: mapUser must run before this middleware')
  return access
}
