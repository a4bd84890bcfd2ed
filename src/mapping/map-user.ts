/**
 * Step "mapped" of the request path: the authenticated user's claims → Access, from the mapping
 * in force. Groups, org and access level come only from here, never from the request.
 */
import type { NextFunction, Request, Response } from 'express'
import { BffError } from '../errors.js'
import { scopeOf, userOf } from '../scope.js'
import { evaluateMapping, type Access } from './evaluate.js'
import type { MappingHolder } from './holder.js'
import type { AppUser } from '../scope.js'

/** Maps a user or throws NOT_MAPPED / DENIED (both 403). */
export function mapOrRefuse(holder: MappingHolder, user: AppUser): Access {
  const result = evaluateMapping(holder.current(), user.username, user.claims)
  switch (result.outcome) {
    case 'mapped':
      return result.access
    case 'not-mapped':
      throw new BffError(
        'NOT_MAPPED',
        'This user is not mapped to ThoughtSpot; ask an operator to add them.',
      )
    case 'denied':
      throw new BffError('DENIED', 'This user is denied access to ThoughtSpot by the mapping.')
  }
}

export function createMapUser(holder: MappingHolder) {
  return function mapUser(_req: Request, res: Response, next: NextFunction): void {
    scopeOf(res).access = mapOrRefuse(holder, userOf(res))
    next()
  }
}

/** REPORT_BOOK_VIEW users get only object-scoped tokens: the proxy is closed to them (SPEC §4). */
export function requireFullAccess(_req: Request, res: Response, next: NextFunction): void {
  const access = scopeOf(res).access
  if (access?.accessLevel !== 'FULL') {
    throw new BffError('DENIED', 'This user may only use object-scoped tokens (REPORT_BOOK_VIEW).')
  }
  next()
}
