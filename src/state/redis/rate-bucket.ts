/** The upstream rate bucket in Redis: one bucket for every replica, on Redis' clock. */
import { burstOf, refillOf, type RateBucket } from '../rate-bucket.js'
import type { RedisConnection } from './connection.js'
import { BUCKET_TAKE, defineScript } from './scripts.js'

/**
 * A token bucket of `perSecond` shared by every replica, stored under `<prefix>rate:<name>`: the
 * same burst and refill as the memory bucket, so no second holds more than `perSecond` grants.
 */
export function redisRateBucket(
  redis: RedisConnection,
  name: string,
  perSecond: number,
): RateBucket {
  const take = defineScript(redis.client, 'tsbffBucketTake', 1, BUCKET_TAKE)
  const key = `${redis.prefix}rate:${name}`
  const burst = burstOf(perSecond)
  const refill = refillOf(perSecond)
  return {
    take: (wanted) =>
      redis.run(async () => {
        // The script answers two integers (Lua numbers come back as Redis integers).
        const [granted, waitMs] = (await take([key], [refill, burst, Math.floor(wanted)])) as [
          number,
          number,
        ]
        return { granted, waitMs }
      }),
  }
}
