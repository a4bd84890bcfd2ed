/** The upstream rate bucket in Redis: one bucket for every replica, on Redis' clock. */
import { burstOf, type RateBucket } from '../rate-bucket.js'
import type { RedisConnection } from './connection.js'
import { BUCKET_TAKE, defineScript } from './scripts.js'

/** A token bucket of `perSecond` shared by every replica, stored under `<prefix>rate:<name>`. */
export function redisRateBucket(
  redis: RedisConnection,
  name: string,
  perSecond: number,
): RateBucket {
  const take = defineScript(redis.client, 'tsbffBucketTake', 1, BUCKET_TAKE)
  const key = `${redis.prefix}rate:${name}`
  const burst = burstOf(perSecond)
  return {
    take: (wanted) =>
      redis.run(async () => {
        // The script answers two integers (Lua numbers come back as Redis integers).
        const [granted, waitMs] = (await take([key], [perSecond, burst, Math.floor(wanted)])) as [
          number,
          number,
        ]
        return { granted, waitMs }
      }),
  }
}
