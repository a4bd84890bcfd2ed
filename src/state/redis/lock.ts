/** Lock in Redis: `SET key token NX PX ttl`; release deletes only while the token still matches. */
import { fencingToken, type Lock } from '../lock.js'
import type { RedisConnection } from './connection.js'
import { defineScript, LOCK_RELEASE } from './scripts.js'

/** Leases shared by every replica. */
export function redisLock(redis: RedisConnection): Lock {
  const release = defineScript(redis.client, 'tsbffLockRelease', 1, LOCK_RELEASE)
  const keyOf = (key: string): string => `${redis.prefix}lock:${key}`
  return {
    acquire(key, ttlMs) {
      const name = keyOf(key)
      const token = fencingToken()
      return redis.run(async () => {
        const taken = await redis.client.set(name, token, 'PX', Math.ceil(ttlMs), 'NX')
        if (taken !== 'OK') return null
        return {
          token,
          async release() {
            // Best effort: a lease that cannot be released runs out on its own.
            await release([name], [token]).catch(() => undefined)
          },
        }
      })
    },
    isHeld: (key) => redis.run(async () => (await redis.client.exists(keyOf(key))) === 1),
  }
}
