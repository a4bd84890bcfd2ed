/**
 * Step "mapped" of the request path: the authenticated user's claims → Access, from the mapping
 * in force. Groups, org and access level come only from here, never from the request.
 */
import type { NextFunction, Request, Response } from 'express'
import { BffError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { scopeOf, userOf } from '../scope.js'
import { evaluateMapping, type Access, type Denial, type Evaluation } from './evaluate.js'
import type { MappingHolder } from './holder.js'
import type { LoadedMapping } from './schema.js'
import type { AppUser } from '../scope.js'

/** The log line's fields for a denial: which rule or attribute, never a claim's value. */
export function denialFields(denial: Denial): Record<string, string | number> {
  return denial.reason === 'rule'
    ? { reason: 'rule', rule: denial.rule }
    : {
        reason: 'attribute',
        attribute: denial.attribute,
        claim: denial.claim,
        problem: denial.problem,
      }
}

function refusal(denial: Denial): BffError {
  // The denial rides along as the cause, so any caller can log why; the body stays generic.
  const message =
    denial.reason === 'rule'
      ? 'This user is denied access to ThoughtSpot by the mapping.'
      : "This user's claims cannot be turned into the row filters the mapping requires; ask an operator."
  return new BffError('DENIED', message, { cause: denial })
}

/**
 * The last evaluation per claims object. A bearer JWT's verified claims are one shared, frozen
 * object for as long as the JWT is cached (`identity/verified-cache.ts`), so a user calling
 * again with the same JWT is not evaluated again; a reload (a new LoadedMapping) or another
 * username recomputes. Session users' claims are a new object per request and always evaluate.
 */
const lastEvaluation = new WeakMap<
  object,
  { loaded: LoadedMapping; username: string; result: Evaluation }
>()

function evaluate(loaded: LoadedMapping, user: AppUser): Evaluation {
  const memo = lastEvaluation.get(user.claims)
  if (memo && memo.loaded === loaded && memo.username === user.username) return memo.result
  const result = evaluateMapping(loaded, user.username, user.claims)
  if (Object.isFrozen(user.claims)) {
    lastEvaluation.set(user.claims, { loaded, username: user.username, result })
  }
  return result
}

/**
 * Maps a user or throws NOT_MAPPED / DENIED (both 403). With `logTo`, a denial is logged with its
 * reason: a deny rule at info (policy), an unusable row-filter claim at warn (the IdP's data).
 * `logTo.log` is read only then: a request scope makes its logger when first asked.
 */
export function mapOrRefuse(
  holder: MappingHolder,
  user: AppUser,
  logTo?: { readonly log: Logger },
): Access {
  const result = evaluate(holder.current(), user)
  switch (result.outcome) {
    case 'mapped':
      return result.access
    case 'not-mapped':
      throw new BffError(
        'NOT_MAPPED',
        'This user is not mapped to ThoughtSpot; ask an operator to add them.',
      )
    case 'denied': {
      const fields = { event: 'mapping.denied', username: user.username, ...denialFields(result) }
      if (result.reason === 'rule') logTo?.log.info(fields, 'user denied by a mapping rule')
      else logTo?.log.warn(fields, 'user denied: a row-filter claim cannot be used')
      throw refusal(result)
    }
  }
}

/** The "mapped" step: puts the user's Access on the request scope, or refuses with 403. */
export function createMapUser(holder: MappingHolder) {
  return function mapUser(_req: Request, res: Response, next: NextFunction): void {
    const scope = scopeOf(res)
    scope.access = mapOrRefuse(holder, userOf(res), scope)
    next()
  }
}

/** REPORT_BOOK_VIEW users get only object-scoped tokens: the proxy is closed to them. */
export function requireFullAccess(_req: Request, res: Response, next: NextFunction): void {
  const access = scopeOf(res).access
  if (access?.accessLevel !== 'FULL') {
    throw new BffError('DENIED', 'This user may only use object-scoped tokens (REPORT_BOOK_VIEW).')
  }
  next()
}
