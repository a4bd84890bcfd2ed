/**
 * The conformance suites against the memory implementations. "Two handles" of one deployment are
 * one instance here: a single process holds one of each.
 */
import { after } from 'node:test'
import { memoryLock } from '../../src/state/lock.js'
import { memoryRateBucket, type RateBucket } from '../../src/state/rate-bucket.js'
import { memoryRateLimit, type RateLimit } from '../../src/state/rate-limit.js'
import { memorySessionBackend } from '../../src/state/session-store.js'
import { MemoryTokenCache } from '../../src/state/token-cache.js'
import { lockContract } from './lock.contract.js'
import { rateBucketContract } from './rate-bucket.contract.js'
import { rateLimitContract } from './rate-limit.contract.js'
import { sessionStoreContract } from './session-store.contract.js'
import { tokenCacheContract } from './token-cache.contract.js'

/** One instance per name, kept in `made`: what a single process holds. */
function perName<T>(make: () => T, made: Map<string, T>): (name: string) => T {
  return (name) => {
    let item = made.get(name)
    if (item === undefined) made.set(name, (item = make()))
    return item
  }
}

const caches = new Map<string, MemoryTokenCache>()
tokenCacheContract(
  'memory',
  perName(() => new MemoryTokenCache(), caches),
)

const lock = memoryLock()
lockContract('memory', () => lock)

const limits = new Map<string, RateLimit>()
rateLimitContract('memory', (spec) => perName(() => memoryRateLimit(spec), limits)(spec.name))

const buckets = new Map<string, RateBucket>()
rateBucketContract('memory', (name, perSecond) =>
  perName(() => memoryRateBucket(perSecond), buckets)(name),
)

const sessions = memorySessionBackend()
after(() => sessions.close())
sessionStoreContract('memory', () => sessions)
