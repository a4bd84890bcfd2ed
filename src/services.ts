/**
 * Builds the long-lived parts from a loaded config: logger-side parts (metrics, audit), the
 * shared state (memory or Redis, chosen in `state/stores.ts`), the mapping, the key source, the
 * ThoughtSpot clients and the proxy's parts. main.ts and the test stack both call this, so tests
 * run the same wiring as production.
 */
import type { Config } from './config/load.js'
import { mappingFitsConfig } from './config/checks.js'
import { StartupError } from './errors.js'
import { type ReadinessCheck } from './http/health.js'
import {
  hs256Source,
  publicKeyFileSource,
  remoteJwksSource,
  type KeySource,
} from './identity/keys.js'
import { cachingVerifier } from './identity/verified-cache.js'
import { createJwtVerifier, type VerifyJwt } from './identity/verify-jwt.js'
import { createMappingHolder, type MappingHolder } from './mapping/holder.js'
import { createAudit, type Audit } from './observability/audit.js'
import type { Logger } from './observability/logger.js'
import { createMetrics, type Metrics } from './observability/metrics.js'
import { compileAllowlist, type Allowlist } from './proxy/allowlist.js'
import { createProxyCredentials, type ProxyCredentials } from './proxy/credential.js'
import { createForwarder } from './proxy/forward.js'
import { createClaimKeeper, type ClaimKeeper } from './session/kept-claims.js'
import { createStores, type Stores } from './state/stores.js'
import { createReloadSweep, type ReloadSweep } from './tokens/revoke-on-reload.js'
import { createTokenService, type TokenService } from './tokens/token-service.js'
import { createTsAuthClient } from './upstream/auth-client.js'
import { createUpstreamBudget } from './upstream/budget.js'
import { createUpstreamFetch } from './upstream/fetch.js'
import { createHeldSessions, type HeldSessions } from './upstream/held-sessions.js'

/** Everything `createApp` wires into the request path. */
export interface Services {
  config: Config
  log: Logger
  metrics: Metrics
  audit: Audit
  stores: Stores
  mapping: MappingHolder
  /** What sessions and ledger entries keep of an app JWT's claims. */
  claims: ClaimKeeper
  /** Revokes the credentials of users a mapping reload no longer maps. */
  sweep: ReloadSweep
  verify: VerifyJwt
  tokens: TokenService
  heldSessions: HeldSessions
  allowlist: Allowlist
  credentials: ProxyCredentials
  forward: ReturnType<typeof createForwarder>
  /** What /readyz checks. */
  readiness: readonly ReadinessCheck[]
  now: () => number
  close(): Promise<void>
}

/** What `createServices` may be given instead of building it from the config. */
export interface ServiceOptions {
  log: Logger
  now?: () => number
  /** Replaces the config's key source (tests, demo IdP). */
  keySource?: KeySource
  metrics?: Metrics
  /** Replaces the shared state the config names (tests give any implementation). */
  stores?: Stores
}

function keySourceOf(config: Config, log: Logger): KeySource {
  const { identity, secrets } = config
  if (identity.jwksUrl) return remoteJwksSource(identity.jwksUrl, { log })
  if (identity.publicKeyFile) return publicKeyFileSource(identity.publicKeyFile)
  if (secrets.identityHs256Secret) return hs256Source(secrets.identityHs256Secret)
  throw new StartupError([
    'identity: no key source (IDENTITY_JWKS_URL, IDENTITY_PUBLIC_KEY_FILE or IDENTITY_HS256_SECRET)',
  ])
}

/**
 * How long one mint (or v1 login) may hold its key's lease: longer than it can take — a wait for
 * upstream budget and an upstream call, twice (an object token for a row-filtered user mints its
 * full token first) — plus a second of slack.
 */
function mintLeaseMs(thoughtspot: Config['thoughtspot']): number {
  return 2 * (thoughtspot.queueTimeoutMs + thoughtspot.timeoutMs) + 1000
}

/** The mapping-reload sweep's share of the upstream rate: requests keep the rest. */
const SWEEP_SHARE_OF_UPSTREAM_RATE = 1 / 8

/** Builds the services; throws StartupError when the config cannot work. */
export function createServices(config: Config, options: ServiceOptions): Services {
  const { log } = options
  const now = options.now ?? Date.now
  const { thoughtspot } = config
  const host = thoughtspot.host
  if (host === null) throw new StartupError(['thoughtspot.host: not set'])

  const allowlist = compileAllowlist(config.proxy.allow)
  const mapping = createMappingHolder(config.mappingFile, log, {
    check: mappingFitsConfig(thoughtspot.authApi),
    usernameCase: config.identity.usernameCase,
  })
  const claims = createClaimKeeper(mapping, config.identity)
  const keySource = options.keySource ?? keySourceOf(config, log)
  const metrics = options.metrics ?? createMetrics()
  const audit = createAudit(log)
  const stores = options.stores ?? createStores(config, { log, now })

  // One budget for every upstream call: mints, logins and proxied calls alike.
  const budget = createUpstreamBudget({
    maxConcurrency: thoughtspot.maxConcurrency,
    queueTimeoutMs: thoughtspot.queueTimeoutMs,
    rate: stores.upstreamRate,
  })
  const upstream = createUpstreamFetch({ timeoutMs: thoughtspot.timeoutMs, log, metrics, budget })
  const client = createTsAuthClient({
    host,
    secretKeyFor: () => config.secrets.tsSecretKey,
    authApi: thoughtspot.authApi,
    fetch: upstream,
    now,
  })
  const leaseMs = mintLeaseMs(thoughtspot)
  const tokens = createTokenService({
    client,
    cache: stores.tokens,
    locks: stores.locks,
    leaseMs,
    metrics,
    audit,
    mintLimit: stores.limits.mints,
    claims,
    maxClaimsBytes: config.session.maxClaimsBytes,
    authApi: thoughtspot.authApi,
    validitySeconds: config.tokens.validitySeconds,
    minRemainingSeconds: config.tokens.minRemainingSeconds,
    now,
  })
  const heldSessions = createHeldSessions({
    host,
    tokens,
    fetch: upstream,
    cache: stores.heldSessions,
    locks: stores.locks,
    leaseMs,
    now,
  })
  const sweep = createReloadSweep({
    mapping,
    claims,
    tokens,
    tokenCache: stores.tokens,
    heldSessions,
    heldCache: stores.heldSessions,
    audit,
    log,
    callsPerSecond: thoughtspot.maxRequestsPerSecond * SWEEP_SHARE_OF_UPSTREAM_RATE,
  })
  mapping.onReload(() => sweep.schedule())
  const credentials = createProxyCredentials({ tokens, heldSessions, authApi: thoughtspot.authApi })
  const forward = createForwarder({
    host,
    timeoutMs: thoughtspot.timeoutMs,
    budget,
    metrics,
    credentials,
  })
  const { clockToleranceSeconds } = config.identity
  const verify = cachingVerifier(
    createJwtVerifier(
      keySource,
      {
        issuer: config.identity.issuer ?? '',
        audience: config.identity.audience ?? '',
        clockToleranceSeconds,
      },
      now,
    ),
    { clockToleranceSeconds, now },
  )

  return {
    config,
    log,
    metrics,
    audit,
    stores,
    mapping,
    claims,
    sweep,
    verify,
    tokens,
    heldSessions,
    allowlist,
    credentials,
    forward,
    readiness: [
      {
        name: stores.kind === 'redis' ? 'shared state store (Redis)' : 'session store',
        check: () => stores.ping(),
      },
      ...(keySource.readiness ? [keySource.readiness] : []),
    ],
    now,
    async close() {
      keySource.close?.()
      mapping.stop()
      await sweep.stop()
      await stores.close()
    },
  }
}
