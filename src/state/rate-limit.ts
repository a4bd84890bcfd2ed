/**
 * Counters of requests per key and minute: per client IP, per user, mints and logins per user.
 * rate-limiter-flexible keeps them, in memory for one replica or in Redis for many; either way
 * over the limit is 429 RATE_LIMITED with Retry-After, and a store that fails is 503
 * STORE_UNAVAILABLE (fail closed, never "allow").
 */
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { BffError } from '../errors.js'

/** One limit. */
export interface RateLimit {
  /** Takes one point for `key`; throws RATE_LIMITED when none is left this minute. */
  consume(key: string): Promise<void>
}

/** One limit: its name, its size, what a refused client reads ("Too many <what>"). */
export interface LimitSpec {
  name: string
  pointsPerMinute: number
  what: string
  /**
   * With a shared store, points a replica takes from the shared count at once and spends
   * locally, to spare a round trip per request: the limit then errs by at most
   * `(batch − 1) × replicas` points a minute. 1 (exact) for limits that guard mints and logins.
   */
  batch: number
}

/** A RateLimit over any rate-limiter-flexible limiter. */
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

/** A limit kept in this process. */
export function memoryRateLimit(spec: Readonly<LimitSpec>): RateLimit {
  return rateLimitFrom(
    new RateLimiterMemory({ keyPrefix: spec.name, points: spec.pointsPerMinute, duration: 60 }),
    spec.what,
  )
}
