/**
 * Every piece of state the BFF shares between requests, as one bundle of seams. `createServices`
 * takes a bundle or builds one from the config here, in one place: the memory bundle for one
 * replica, the Redis bundle when `redis.url` is set. Nothing in the request path knows which.
 */
import type { Config } from '../config/load.js'
import { memoryLock, type Lock } from './lock.js'
import { createRedisStores, type RedisStoresContext } from './redis/stores.js'
import { memoryRateBucket, type RateBucket } from './rate-bucket.js'
import { memoryRateLimit, type LimitSpec, type RateLimit } from './rate-limit.js'
import { memorySessionBackend, type SessionBackend } from './session-store.js'
import { MemoryTokenCache, type TokenCache } from './token-cache.js'

/** The per-minute limits of SPEC's rate-limit rule. */
export interface Limits {
  /** Every /ts/* request, per client IP. */
  perIp: RateLimit
  /** Every authenticated request, per user. */
  perUser: RateLimit
  /** Token mints (cache misses and fresh=true), per user. */
  mints: RateLimit
  /** Logins (`POST /ts/session`), per user: each one stores a session. */
  logins: RateLimit
}

/** The shared state of one deployment. */
export interface Stores {
  /** `memory` or `redis`, for the start-up log and /readyz. */
  kind: 'memory' | 'redis'
  sessions: SessionBackend
  /** Minted ThoughtSpot tokens. */
  tokens: TokenCache
  /** ThoughtSpot sessions the BFF holds for v1 calls: their own namespace, never mixed with tokens. */
  heldSessions: TokenCache
  limits: Limits
  /** The upstream rate, shared by every replica. */
  upstreamRate: RateBucket
  /** One mint (or v1 login) per key at a time. */
  locks: Lock
  /** Resolves when the store answers (readiness); rejects naming what does not. */
  ping(): Promise<void>
  close(): Promise<void>
}

/**
 * Points the request budgets (per IP, per user) take from Redis at once: at the defaults (600
 * and 300 a minute) eight in reserve per replica is under 3 % of a limit, and it spares most
 * requests two Redis round trips.
 */
export const LIMIT_BATCH = 8

/** The limit specs from the config: one place names what each limit is for. */
export function limitSpecs(config: Pick<Config, 'rateLimits'>): Record<keyof Limits, LimitSpec> {
  const { rateLimits } = config
  return {
    perIp: {
      name: 'ip',
      pointsPerMinute: rateLimits.perIpPerMinute,
      what: 'requests from this address',
      batch: LIMIT_BATCH,
    },
    perUser: {
      name: 'user',
      pointsPerMinute: rateLimits.perUserPerMinute,
      what: 'requests for this user',
      batch: LIMIT_BATCH,
    },
    mints: {
      name: 'mint',
      pointsPerMinute: rateLimits.mintsPerUserPerMinute,
      what: 'token mints for this user',
      batch: 1,
    },
    logins: {
      name: 'login',
      pointsPerMinute: rateLimits.loginsPerUserPerMinute,
      what: 'logins for this user',
      batch: 1,
    },
  } as const
}

/** Every limit of `limitSpecs`, each made by `make` (memory or Redis). */
export function buildLimits(
  config: Pick<Config, 'rateLimits'>,
  make: (spec: LimitSpec) => RateLimit,
): Limits {
  const specs = limitSpecs(config)
  return {
    perIp: make(specs.perIp),
    perUser: make(specs.perUser),
    mints: make(specs.mints),
    logins: make(specs.logins),
  }
}

/** State in this process: one replica, demo mode, most tests. */
export function createMemoryStores(
  config: Pick<Config, 'rateLimits' | 'thoughtspot' | 'session'>,
  now: () => number = Date.now,
): Stores {
  const sessions = memorySessionBackend(now, config.session.memoryMaxSessions)
  return {
    kind: 'memory',
    sessions,
    tokens: new MemoryTokenCache(now),
    heldSessions: new MemoryTokenCache(now),
    limits: buildLimits(config, memoryRateLimit),
    upstreamRate: memoryRateBucket(config.thoughtspot.maxRequestsPerSecond),
    locks: memoryLock(now),
    ping: () => sessions.ping(),
    close: () => sessions.close(),
  }
}

/** The deployment's shared state, as the config names it: memory, or Redis when `redis.url` is set. */
export function createStores(
  config: Pick<Config, 'rateLimits' | 'thoughtspot' | 'redis' | 'session' | 'secrets'>,
  context: RedisStoresContext,
): Stores {
  return config.redis.url === null
    ? createMemoryStores(config, context.now)
    : createRedisStores(config, context)
}
