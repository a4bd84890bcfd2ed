/**
 * RateLimit in Redis (rate-limiter-flexible's RateLimiterRedis): one count per key across every
 * replica. Keys are hashed (an IP or a username never appears in a key name). A Redis that is not
 * ready refuses at once: fail closed, never "allow".
 *
 * With `spec.batch` above 1 a replica takes several points at once and spends them locally for
 * the rest of the minute (never more than the count said was left), so most requests make no
 * round trip for their budget; see {@link LimitSpec.batch} for what it costs in exactness.
 */
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { BffError } from '../../errors.js'
import type { LimitSpec, RateLimit } from '../rate-limit.js'
import type { RedisConnection } from './connection.js'
import { nameHash } from './sealed.js'

/** Keys with points in reserve, per limit and replica; the oldest are forgotten past it. */
const MAX_RESERVED_KEYS = 50_000

interface Reserve {
  points: number
  /** Epoch ms the minute of these points ends. */
  until: number
  /** What Redis said was left after the last take: a reserve never exceeds it. */
  remaining: number
}

/** A limit shared by every replica. */
export function redisRateLimit(redis: RedisConnection, spec: Readonly<LimitSpec>): RateLimit {
  const limiter = new RateLimiterRedis({
    storeClient: redis.client,
    keyPrefix: `${redis.prefix}rl:${spec.name}`,
    points: spec.pointsPerMinute,
    duration: 60,
    rejectIfRedisNotReady: true,
    // Once over the limit, refuse in memory for the rest of the minute: a flood from one IP
    // costs no Redis round trips.
    inMemoryBlockOnConsumed: spec.pointsPerMinute + 1,
  })
  const reserves = new Map<string, Reserve>()

  const refuse = (res: RateLimiterRes): BffError =>
    new BffError('RATE_LIMITED', `Too many ${spec.what}; retry later.`, {
      retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    })

  async function take(key: string, points: number): Promise<RateLimiterRes> {
    try {
      return await limiter.consume(key, points)
    } catch (err) {
      if (err instanceof RateLimiterRes) throw err
      throw new BffError('STORE_UNAVAILABLE', 'The rate-limit store is unavailable.', {
        cause: err,
      })
    }
  }

  return {
    async consume(name) {
      const key = nameHash('limit', name)
      const now = Date.now()
      const reserve = reserves.get(key)
      if (reserve && reserve.until > now && reserve.points > 0) {
        reserve.points--
        return
      }
      const wanted =
        reserve && reserve.until > now
          ? Math.max(1, Math.min(spec.batch, reserve.remaining))
          : spec.batch
      let res: RateLimiterRes
      try {
        res = await take(key, wanted)
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err
        reserves.delete(key)
        throw refuse(err)
      }
      reserves.delete(key)
      if (wanted > 1 || reserve) {
        if (reserves.size >= MAX_RESERVED_KEYS) reserves.delete(reserves.keys().next().value ?? '')
        reserves.set(key, {
          points: wanted - 1,
          until: now + res.msBeforeNext,
          remaining: res.remainingPoints,
        })
      }
    },
  }
}
