/**
 * Rate limits (SPEC §6): per IP on every /ts/* request, per user on every authenticated one, and
 * per user on mints. rate-limiter-flexible keeps the counters: in memory for one replica, in
 * Redis (the same limiter class family) when REDIS_URL is set. Over a limit → 429 RATE_LIMITED
 * with Retry-After; a counter store that fails → 503 STORE_UNAVAILABLE (fail closed).
 */
import type { NextFunction, Request, Response } from 'express'
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { BffError } from '../errors.js'
import { userOf } from '../scope.js'

export interface RateLimit {
  /** Takes one point for `key`; throws RATE_LIMITED when none is left. */
  consume(key: string): Promise<void>
}

export function rateLimitFrom(limiter: RateLimiterAbstract, what: string): RateLimit {
  return {
    async consume(key) {
      try {
        await limiter.consume(key)
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          throw new BffError('RATE_LIMITED', `Too many ${what}; retry later.`, {
            retryAfter: Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
          })
        }
        throw new BffError('STORE_UNAVAILABLE', 'The rate-limit store is unavailable.', {
          cause: err,
        })
      }
    },
  }
}

export function memoryRateLimit(name: string, pointsPerMinute: number, what: string): RateLimit {
  return rateLimitFrom(
    new RateLimiterMemory({ keyPrefix: name, points: pointsPerMinute, duration: 60 }),
    what,
  )
}

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
