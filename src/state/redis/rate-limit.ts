/**
 * RateLimit in Redis (rate-limiter-flexible's RateLimiterRedis): one count per key across every
 * replica. Keys are hashed (an IP or a username never appears in a key name). A Redis that is not
 * ready refuses at once: fail closed, never "allow".
 */
import { RateLimiterRedis } from 'rate-limiter-flexible'
import { rateLimitFrom, type LimitSpec, type RateLimit } from '../rate-limit.js'
import type { RedisConnection } from './connection.js'
import { nameHash } from './sealed.js'

/** A limit shared by every replica. */
export function redisRateLimit(redis: RedisConnection, spec: Readonly<LimitSpec>): RateLimit {
  const limit = rateLimitFrom(
    new RateLimiterRedis({
      storeClient: redis.client,
      keyPrefix: `${redis.prefix}rl:${spec.name}`,
      points: spec.pointsPerMinute,
      duration: 60,
      rejectIfRedisNotReady: true,
    }),
    spec.what,
  )
  return { consume: (key) => limit.consume(nameHash('limit', key)) }
}
