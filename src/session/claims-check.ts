/**
 * Step "session still readable", mounted right before `mapUser`: a session keeps only the claims
 * the mapping read when it was made. When a reload makes the mapping read a claim the session did
 * not keep, the session cannot be evaluated (the claim may have been there, and a deny rule on it
 * would be evaded), so the user signs in again with a fresh app JWT. Bearer requests carry every
 * claim and pass. Both steps are synchronous and adjacent, so no reload lands between them.
 */
import type { NextFunction, Request, Response } from 'express'
import { BffError } from '../errors.js'
import { scopeOf, userOf } from '../scope.js'
import type { ClaimKeeper } from './kept-claims.js'
import { storedUser } from './store.js'

/** The step; `app.ts` mounts it together with `mapUser`. */
export function checkSessionClaims(keeper: ClaimKeeper) {
  return function sessionClaimsCheck(req: Request, res: Response, next: NextFunction): void {
    const user = userOf(res)
    if (user.via !== 'session') {
      next()
      return
    }
    const missing = keeper.missing(storedUser(req)?.claimNames)
    if (missing.length > 0) {
      // Claim names come from the mapping file, never a claim's value: safe to log.
      scopeOf(res).log.info(
        { event: 'session.claims_outdated', username: user.username, missing },
        'the mapping reads claims this session did not keep; the user must sign in again',
      )
      throw new BffError(
        'UNAUTHENTICATED',
        'The mapping changed since this session began and needs claims it did not keep: sign in again.',
        { headers: { 'WWW-Authenticate': 'Bearer' } },
      )
    }
    // What a mint later keeps of these claims must not claim to know more than the session did.
    keeper.remember(user.claims, storedUser(req)?.claimNames ?? [])
    next()
  }
}
