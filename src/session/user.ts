/**
 * What a session holds: the user as the login's app JWT described them, enough to rebuild the
 * request's user on later requests without the JWT: only the claims that name the user and those
 * the mapping read at login (see kept-claims.ts), with the names of those claims.
 */
import type { AppUser } from '../scope.js'

/** The user part of a stored session. */
export interface SessionUser {
  username: string
  email: string | null
  displayName: string | null
  claims: Record<string, unknown>
  /**
   * The claim names `claims` answers for (kept, or absent from the JWT). Missing in a session
   * written before claims were trimmed: such a session is treated as keeping none.
   */
  claimNames?: readonly string[]
  /** Epoch ms when the session ends (absolute, not sliding). */
  expiresAt: number
}

declare module 'express-session' {
  interface SessionData {
    user: SessionUser
  }
}

/** The request's user from a stored session. */
export function userFromSession(stored: SessionUser): AppUser {
  return {
    username: stored.username,
    email: stored.email,
    displayName: stored.displayName,
    claims: stored.claims,
    via: 'session',
    expiresAt: stored.expiresAt,
  }
}
