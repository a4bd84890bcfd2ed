/**
 * The conformance suites against the Redis implementations, on a real redis-server. "Two handles"
 * are two connections, as two replicas have: whatever one writes, the other must see.
 */
import { after, before } from 'node:test'
import { createLogger } from '../../src/observability/logger.js'
import { connectRedis, type RedisConnection } from '../../src/state/redis/connection.js'
import { redisLock } from '../../src/state/redis/lock.js'
import { redisRateBucket } from '../../src/state/redis/rate-bucket.js'
import { redisRateLimit } from '../../src/state/redis/rate-limit.js'
import { createSealer } from '../../src/state/redis/sealed.js'
import { redisSessionBackend } from '../../src/state/redis/session-store.js'
import { RedisTokenCache } from '../../src/state/redis/token-cache.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'
import { lockContract } from './lock.contract.js'
import { rateBucketContract } from './rate-bucket.contract.js'
import { rateLimitContract } from './rate-limit.contract.js'
import { sessionStoreContract } from './session-store.contract.js'
import { tokenCacheContract } from './token-cache.contract.js'

const PREFIX = 'contract:'
const sealer = createSealer(['contract-secret-0123456789-0123456789-abcdef'], PREFIX)
let redis: TestRedis
const connections: RedisConnection[] = []

before(async () => {
  redis = await startRedis()
})
after(async () => {
  await Promise.all(connections.map((connection) => connection.close()))
  await redis.stop()
})

/** A new connection (a replica), ready before the test uses it. */
async function connection(): Promise<RedisConnection> {
  const made = connectRedis(redis.url, { prefix: PREFIX, log: createLogger({ level: 'silent' }) })
  connections.push(made)
  for (let i = 0; i < 200 && made.client.status !== 'ready'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return made
}

tokenCacheContract(
  'redis',
  async (namespace) => new RedisTokenCache(await connection(), sealer, namespace),
)
lockContract('redis', async () => redisLock(await connection()))
rateLimitContract('redis', async (spec) => redisRateLimit(await connection(), spec))
rateBucketContract('redis', async (name, perSecond) =>
  redisRateBucket(await connection(), name, perSecond),
)
sessionStoreContract('redis', async () => redisSessionBackend(await connection(), sealer))
