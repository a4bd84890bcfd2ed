/**
 * Builds the long-lived parts from a loaded config: logger-side parts (metrics, audit), the
 * shared state (memory or Redis, chosen in `state/stores.ts`), the mapping, the key source, the
 * ThoughtSpot clients and the proxy's parts. main.ts and the test stack both call this, so tests
 * run the same wiring as production.
 */
import type { Config } from './config/load.js'
import { mappingFitsConfig } from './config/checks.js'
import {
  createSecretsHolder,
  rotatingHs256Source,
  type SecretsHolder,
} from './config/secret-holder.js'
import { StartupError } from './errors.js'
import { type ReadinessCheck } from './http/health.js'
import { publicKeyFileSource, remoteJwksSource, type KeySource } from './identity/keys.js'
import { cachingVerifier } from './identity/verified-cache.js'
import { createJwtVerifier, type VerifyJwt } from './identity/verify-jwt.js'
import { createMappingHolder, type MappingHolder } from './mapping/holder.js'
import { createAudit, type Audit } from './observability/audit.js'
import { createAuditLog } from './observability/audit-log.js'
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
  /** The secrets in force: re-read from their files on SIGHUP and when a file changes. */
  secrets: SecretsHolder
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
  /** Starts what a running process watches: mapping and secret files, SIGHUP. */
  watch(): void
  /** Shutdown has begun: /readyz answers 503 from now on, so balancers stop sending. */
  drain(): void
  /** Stops watching, flushes the audit trail, closes the shared state. */
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

function keySourceOf(
  config: Config,
  secrets: SecretsHolder,
  log: Logger,
  metrics: Metrics,
): KeySource {
  const { identity } = config
  if (identity.jwksUrl) {
    return remoteJwksSource(identity.jwksUrl, {
      log,
      onFetch: (outcome) => metrics.identityKeyFetches.inc({ outcome }),
    })
  }
  if (identity.publicKeyFile) return publicKeyFileSource(identity.publicKeyFile)
  if (secrets.identityHs256Secret()) return rotatingHs256Source(() => secrets.identityHs256Secret())
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
  const metrics = options.metrics ?? createMetrics()
  const mapping = createMappingHolder(config.mappingFile, log, {
    check: mappingFitsConfig(thoughtspot.authApi),
    usernameCase: config.identity.usernameCase,
    onOutcome: (outcome) => metrics.mappingReloads.inc({ outcome }),
  })
  const claims = createClaimKeeper(mapping, config.identity)
  const secrets = createSecretsHolder(config.secrets, {
    log,
    files: rotatingFiles(config),
    onOutcome: (setting, outcome) => {
      metrics.secretReloads.inc({ setting, outcome })
      // JWTs verified with a rotated-out HS256 secret must be verified again (and refused).
      if (setting === 'IDENTITY_HS256_SECRET' && outcome === 'rotated') verify.clear()
    },
  })
  const keySource = options.keySource ?? keySourceOf(config, secrets, log, metrics)
  const auditLog = createAuditLog(config.audit.destination, log)
  const audit = createAudit(auditLog.log, {
    now,
    onSuppressed: (code) => metrics.auditSuppressed.inc({ code }),
  })
  const stores =
    options.stores ??
    createStores(config, {
      log,
      now,
      sessionSecrets: () => secrets.sessionSecrets(),
      onRedisError: (_err, kind) => metrics.redisErrors.inc({ kind }),
    })

  // One budget for every upstream call: mints, logins and proxied calls alike.
  const budget = createUpstreamBudget({
    maxConcurrency: thoughtspot.maxConcurrency,
    queueTimeoutMs: thoughtspot.queueTimeoutMs,
    rate: stores.upstreamRate,
    observer: {
      granted: (waitMs) => metrics.upstreamBudgetWait.observe(waitMs / 1000),
      rejected: (reason) => metrics.upstreamBudgetRejections.inc({ reason }),
    },
  })
  metrics.observeUpstream(budget)
  const upstream = createUpstreamFetch({ timeoutMs: thoughtspot.timeoutMs, log, metrics, budget })
  const client = createTsAuthClient({
    host,
    // Read at each mint: the org's own key when it has one, and whatever was rotated in last.
    secretKeyFor: (orgId) => secrets.tsSecretKeyFor(orgId),
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

  let draining = false
  const reopenAudit = (): void => auditLog.reopen()

  return {
    config,
    log,
    metrics,
    audit,
    secrets,
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
        name: 'this replica',
        check: () =>
          draining ? Promise.reject(new Error('shutting down')) : Promise.resolve(undefined),
      },
      {
        name: stores.kind === 'redis' ? 'shared state store (Redis)' : 'session store',
        check: () => stores.ping(),
      },
      ...(keySource.readiness ? [keySource.readiness] : []),
    ],
    now,
    watch() {
      mapping.watch()
      secrets.watch()
      process.on('SIGHUP', reopenAudit)
    },
    drain() {
      draining = true
    },
    async close() {
      keySource.close?.()
      mapping.stop()
      secrets.stop()
      process.off('SIGHUP', reopenAudit)
      await sweep.stop()
      audit.flush()
      await stores.close()
      await auditLog.close()
    },
  }
}

/**
 * The secret files to read again on rotation. Demo mode made its own ThoughtSpot key and
 * identity secret (for its simulator and IdP), which no file may replace.
 */
function rotatingFiles(config: Config): Config['secrets']['files'] {
  const { files } = config.secrets
  if (config.mode !== 'demo') return files
  return { ...files, tsSecretKey: null, identityHs256Secret: null, orgSecretKeys: {} }
}
