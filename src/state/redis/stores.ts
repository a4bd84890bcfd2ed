/**
 * The Redis bundle of every seam: what `createStores` builds when `redis.url` is set. One
 * connection per replica; every store shares it and the deployment's key prefix.
 */
import type { Config } from '../../config/load.js'
import type { Logger } from '../../observability/logger.js'
import { buildLimits, type Stores } from '../stores.js'
import { connectRedis, type RedisErrorHook } from './connection.js'
import { redisLock } from './lock.js'
import { redisRateBucket } from './rate-bucket.js'
import { redisRateLimit } from './rate-limit.js'
import { createSealer } from './sealed.js'
import { redisSessionBackend } from './session-store.js'
import { RedisTokenCache } from './token-cache.js'

/** What the Redis bundle is given besides the config. */
export interface RedisStoresContext {
  log: Logger
  now: () => number
  onRedisError?: RedisErrorHook
  /** The session secrets in force, when they may rotate (else the config's). */
  sessionSecrets?: () => readonly string[]
}

/** State shared by every replica through the Redis at `config.redis.url`. */
export function createRedisStores(
  config: Pick<Config, 'rateLimits' | 'thoughtspot' | 'redis' | 'secrets'>,
  context: RedisStoresContext,
): Stores {
  const url = config.redis.url
  if (url === null) throw new Error('createRedisStores needs redis.url')
  const redis = connectRedis(url, {
    prefix: config.redis.keyPrefix,
    log: context.log,
    ...(context.onRedisError ? { onError: context.onRedisError } : {}),
  })
  const sealer = createSealer(
    context.sessionSecrets ?? config.secrets.sessionSecrets,
    config.redis.keyPrefix,
  )
  return {
    kind: 'redis',
    sessions: redisSessionBackend(redis, sealer),
    tokens: new RedisTokenCache(redis, sealer, 'tokens', context.now),
    heldSessions: new RedisTokenCache(redis, sealer, 'held', context.now),
    limits: buildLimits(config, (spec) => redisRateLimit(redis, spec)),
    upstreamRate: redisRateBucket(redis, 'upstream', config.thoughtspot.maxRequestsPerSecond),
    locks: redisLock(redis),
    ping: () => redis.ping(),
    close: () => redis.close(),
  }
}
