/**
 * The rate-limit steps: per client IP on every /ts/* request (before anything else is done for
 * it), and per user once the request is authenticated. The counters are the deployment's
 * `Limits` (memory or Redis).
 */
import type { NextFunction, Request, Response } from 'express'
import type { RateLimit } from '../state/rate-limit.js'
import { userOf } from '../scope.js'

/** Middleware: one point of the client IP's budget (the IP as Express's `trust proxy` sees it). */
export function limitPerIp(limit: RateLimit) {
  return async function rateLimitPerIp(
    req: Request,
    _res: Response,
    next: NextFunction,
  ): Promise<void> {
    await limit.consume(req.ip ?? req.socket.remoteAddress ?? 'unknown')
    next()
  }
}

/** Middleware: one point of the authenticated user's budget. */
export function limitPerUser(limit: RateLimit) {
  return async function rateLimitPerUser(
    _req: Request,
    res: Response,
    next: NextFunction,
  ): Promise<void> {
    await limit.consume(userOf(res).username)
    next()
  }
}
