/**
 * First step of every request: a request id (the caller's own when it is sane, else a fresh
 * one), echoed as `x-request-id`, and the request scope with a child logger carrying it.
 */
import { randomUUID } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'
import type { Logger } from '../observability/logger.js'
import type { RequestScope } from '../scope.js'

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The first step of every request: its id, echoed as `x-request-id`, and its scope. */
export function requestId(log: Logger, now: () => number = Date.now) {
  return function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
    const given = req.headers['x-request-id']
    const id = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID()
    res.setHeader('x-request-id', id)
    // The child logger is made when a step first logs: most requests log only their access
    // line, which carries the id itself.
    let child: Logger | undefined
    const scope: RequestScope = {
      requestId: id,
      get log() {
        return (child ??= log.child({ requestId: id }))
      },
      startedAt: now(),
    }
    res.locals.scope = scope
    next()
  }
}
