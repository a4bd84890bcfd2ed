/**
 * Builds the long-lived parts from a loaded config: logger, metrics, mapping, key source, session
 * store, token cache, rate limits, ThoughtSpot clients. main.ts and the test stack both call this,
 * so tests run the same wiring as production.
 */
import type { Config } from './config/load.js'
import { ConfigError } from './config/load.js'
import {
  hs256Source,
  KeySourceError,
  publicKeyFileSource,
  remoteJwksSource,
  type KeySource,
} from './identity/keys.js'
import { createJwtVerifier, type VerifyJwt } from './identity/verify-jwt.js'
import { createMappingHolder, MappingLoadError, type MappingHolder } from './mapping/holder.js'
import type { LoadedMapping } from './mapping/schema.js'
import type { Logger } from './observability/logger.js'
import { createMetrics, type Metrics } from './observability/metrics.js'
import { memoryRateLimit, type RateLimit } from './http/rate-limit.js'
import { memorySessionBackend, type SessionBackend } from './session/store.js'
import { MemoryTokenCache, type TokenCache } from './tokens/cache.js'
import { createTokenService, type TokenService } from './tokens/token-service.js'
import { createTsAuthClient } from './tokens/ts-auth-client.js'
import { createUpstreamFetch, type UpstreamFetch } from './thoughtspot/upstream.js'
import { createUpstreamBudget } from './thoughtspot/budget.js'
import { AllowlistError, compileAllowlist, type Allowlist } from './proxy/allowlist.js'
import { createForwarder, type Forward } from './proxy/forward.js'
import { createTsSessions, type TsSessions } from './proxy/ts-sessions.js'

export interface Services {
  config: Config
  log: Logger
  metrics: Metrics
  mapping: MappingHolder
  sessions: SessionBackend
  verify: VerifyJwt
  upstream: UpstreamFetch
  tokens: TokenService
  tsSessions: TsSessions
  allowlist: Allowlist
  forward: Forward
  limits: { perIp: RateLimit; perUser: RateLimit }
  now: () => number
  close(): Promise<void>
}

export interface ServiceOptions {
  log: Logger
  now?: () => number
  /** Replaces the config's key source (tests, demo IdP). */
  keySource?: KeySource
  metrics?: Metrics
  sessions?: SessionBackend
  tokenCache?: TokenCache
}

function keySourceOf(config: Config): KeySource {
  const { identity, secrets } = config
  if (identity.jwksUrl) return remoteJwksSource(identity.jwksUrl)
  if (identity.publicKeyFile) return publicKeyFileSource(identity.publicKeyFile)
  if (secrets.identityHs256Secret) return hs256Source(secrets.identityHs256Secret)
  throw new ConfigError([
    'identity: no key source (IDENTITY_JWKS_URL, IDENTITY_PUBLIC_KEY_FILE or IDENTITY_HS256_SECRET)',
  ])
}

/** Cross-file rules that neither file can check alone. */
function mappingFitsConfig(config: Config) {
  return (loaded: LoadedMapping): string[] =>
    config.thoughtspot.authApi === 'v1' && loaded.mapping.attributes.length > 0
      ? [
          `${loaded.file}: attributes need TS_AUTH_API=v2 (auth/token/custom); v1 cannot mint row filters`,
        ]
      : []
}

/** Throws ConfigError listing every problem, so main can print them and exit 1. */
export function createServices(config: Config, options: ServiceOptions): Services {
  const { log } = options
  const now = options.now ?? Date.now
  const host = config.thoughtspot.host
  if (host === null) throw new ConfigError(['thoughtspot.host: not set'])
  if (config.redis.url !== null) {
    // Fail closed rather than silently keep sessions and tokens per replica.
    throw new ConfigError([
      'REDIS_URL: shared state in Redis is not available in this version yet; run one replica without it',
    ])
  }

  let mapping: MappingHolder
  let keySource: KeySource
  let allowlist: Allowlist
  try {
    allowlist = compileAllowlist(config.proxy.allow)
    mapping = createMappingHolder(config.mappingFile, log, mappingFitsConfig(config))
    keySource = options.keySource ?? keySourceOf(config)
  } catch (err) {
    if (err instanceof AllowlistError)
      throw new ConfigError(err.problems.map((p) => `${config.configFile}: ${p}`))
    if (err instanceof MappingLoadError) throw new ConfigError(err.problems)
    if (err instanceof KeySourceError) throw new ConfigError([err.message])
    throw err
  }

  const metrics = options.metrics ?? createMetrics()
  const sessions = options.sessions ?? memorySessionBackend(now)
  const { thoughtspot } = config
  // One budget for every upstream call: mints, logins and proxied calls alike.
  const budget = createUpstreamBudget({
    maxConcurrency: thoughtspot.maxConcurrency,
    maxRequestsPerSecond: thoughtspot.maxRequestsPerSecond,
    queueTimeoutMs: thoughtspot.queueTimeoutMs,
  })
  const upstream = createUpstreamFetch({ timeoutMs: thoughtspot.timeoutMs, log, metrics, budget })
  const client = createTsAuthClient({
    host,
    secretKey: config.secrets.tsSecretKey,
    authApi: config.thoughtspot.authApi,
    fetch: upstream,
    now,
  })
  const { rateLimits } = config
  const tokens = createTokenService({
    client,
    cache: options.tokenCache ?? new MemoryTokenCache(now),
    metrics,
    mintLimit: memoryRateLimit(
      'mint',
      rateLimits.mintsPerUserPerMinute,
      'token mints for this user',
    ),
    authApi: config.thoughtspot.authApi,
    validitySeconds: config.tokens.validitySeconds,
    minRemainingSeconds: config.tokens.minRemainingSeconds,
    now,
  })
  const tsSessions = createTsSessions({
    host,
    tokens,
    fetch: upstream,
    cache: new MemoryTokenCache(now),
    now,
  })
  const forward = createForwarder({ host, timeoutMs: thoughtspot.timeoutMs, budget, metrics })
  const verify = createJwtVerifier(
    keySource,
    {
      issuer: config.identity.issuer ?? '',
      audience: config.identity.audience ?? '',
      clockToleranceSeconds: config.identity.clockToleranceSeconds,
    },
    now,
  )

  return {
    config,
    log,
    metrics,
    mapping,
    sessions,
    verify,
    upstream,
    tokens,
    tsSessions,
    allowlist,
    forward,
    limits: {
      perIp: memoryRateLimit('ip', rateLimits.perIpPerMinute, 'requests from this address'),
      perUser: memoryRateLimit('user', rateLimits.perUserPerMinute, 'requests for this user'),
    },
    now,
    async close() {
      mapping.stop()
      await sessions.close()
    },
  }
}
