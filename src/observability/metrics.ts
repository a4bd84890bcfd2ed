/**
 * Prometheus metrics (SPEC §5 /metrics). One registry per app instance, so tests can build many
 * apps in one process. Labels never hold usernames, raw paths, object or org ids: each label
 * has a fixed, small set of values (route families, outcomes, reasons), so the number of series
 * stays the same however many users and paths there are.
 */
import type { Express, Router } from 'express'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { exactApp, exactRouter } from '../http/routing.js'

/** What the upstream budget reports for the load gauges. */
export interface UpstreamLoad {
  inFlight(): number
  queued(): number
}

/** Every metric the BFF keeps. */
export interface Metrics {
  registry: Registry
  httpRequests: Counter<'method' | 'route' | 'status'>
  upstreamDuration: Histogram<'purpose' | 'status'>
  tokenMints: Counter<'api' | 'outcome'>
  tokenCacheHits: Counter
  tokenCacheMisses: Counter
  singleflightJoins: Counter
  /** How long granted upstream calls waited for budget (0 when granted at once). */
  upstreamBudgetWait: Histogram
  /** Upstream calls refused budget: `queue_timeout` (429 RATE_LIMITED) or `store_error`. */
  upstreamBudgetRejections: Counter<'reason'>
  /** Mapping reloads: `applied` or `rejected` (the old mapping stays). */
  mappingReloads: Counter<'outcome'>
  /** Secret files read again: `rotated` or `rejected` (the old value stays), per setting. */
  secretReloads: Counter<'setting' | 'outcome'>
  /** Fetches of the identity provider's keys (JWKS): `ok` or `error`. */
  identityKeyFetches: Counter<'outcome'>
  /** Redis failures: `connection` (each failed attempt) or `command` (failed or timed out). */
  redisErrors: Counter<'kind'>
  /** Refusals left out of the audit log during a flood (the summary line counts them). */
  auditSuppressed: Counter<'code'>
  /** Reports the upstream budget's in-flight and queued calls as gauges. */
  observeUpstream(load: UpstreamLoad): void
}

/** Buckets of the budget wait, in seconds: most waits are 0; `queueTimeoutMs` is 2 s by default. */
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5]

/** Builds the registry and every metric; `defaultMetrics` adds Node's process metrics. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'tsbff_' })
  const registers = [registry]
  const loads: UpstreamLoad[] = []
  const sum = (pick: (load: UpstreamLoad) => number): number =>
    loads.reduce((total, load) => total + pick(load), 0)
  new Gauge({
    name: 'tsbff_upstream_in_flight',
    help: 'Calls to ThoughtSpot in flight now (at most thoughtspot.maxConcurrency).',
    registers,
    collect() {
      this.set(sum((load) => load.inFlight()))
    },
  })
  new Gauge({
    name: 'tsbff_upstream_queued',
    help: 'Calls to ThoughtSpot waiting for upstream budget now.',
    registers,
    collect() {
      this.set(sum((load) => load.queued()))
    },
  })
  return {
    registry,
    httpRequests: new Counter({
      name: 'tsbff_http_requests_total',
      help: 'HTTP requests served, by method, route family and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    upstreamDuration: new Histogram({
      name: 'tsbff_upstream_request_duration_seconds',
      help: 'Latency of calls to ThoughtSpot, by purpose (mint, proxy, …) and status.',
      labelNames: ['purpose', 'status'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    tokenMints: new Counter({
      name: 'tsbff_token_mints_total',
      help: 'ThoughtSpot token mints, by API and outcome.',
      labelNames: ['api', 'outcome'],
      registers,
    }),
    tokenCacheHits: new Counter({
      name: 'tsbff_token_cache_hits_total',
      help: 'Token requests served from the cache.',
      registers,
    }),
    tokenCacheMisses: new Counter({
      name: 'tsbff_token_cache_misses_total',
      help: 'Token requests that needed a mint (or joined one).',
      registers,
    }),
    singleflightJoins: new Counter({
      name: 'tsbff_singleflight_joins_total',
      help: 'Token requests that joined a mint already in flight instead of starting one.',
      registers,
    }),
    upstreamBudgetWait: new Histogram({
      name: 'tsbff_upstream_budget_wait_seconds',
      help: 'How long calls to ThoughtSpot waited for upstream budget before they were sent.',
      buckets: WAIT_BUCKETS,
      registers,
    }),
    upstreamBudgetRejections: new Counter({
      name: 'tsbff_upstream_budget_rejections_total',
      help: 'Calls to ThoughtSpot refused budget: queue_timeout (answered 429) or store_error.',
      labelNames: ['reason'],
      registers,
    }),
    mappingReloads: new Counter({
      name: 'tsbff_mapping_reloads_total',
      help: 'Mapping file reloads: applied, or rejected (the previous mapping stays).',
      labelNames: ['outcome'],
      registers,
    }),
    secretReloads: new Counter({
      name: 'tsbff_secret_reloads_total',
      help: 'Secret files read again that changed: rotated, or rejected (the old value stays).',
      labelNames: ['setting', 'outcome'],
      registers,
    }),
    identityKeyFetches: new Counter({
      name: 'tsbff_identity_key_fetches_total',
      help: "Fetches of the identity provider's signing keys (JWKS), by outcome.",
      labelNames: ['outcome'],
      registers,
    }),
    redisErrors: new Counter({
      name: 'tsbff_redis_errors_total',
      help: 'Redis failures: connection (per failed attempt) or command (failed or timed out).',
      labelNames: ['kind'],
      registers,
    }),
    auditSuppressed: new Counter({
      name: 'tsbff_audit_suppressed_total',
      help: 'Refusals not written to the audit log one by one during a flood (summarised).',
      labelNames: ['code'],
      registers,
    }),
    observeUpstream(load) {
      loads.push(load)
    },
  }
}

/** GET /metrics over `registry`: on the main app while `server.metricsPort` is null. */
export function metricsRoutes(registry: Registry): Router {
  const router = exactRouter()
  router.get('/metrics', async function metricsRoute(_req, res) {
    res.type(registry.contentType).send(await registry.metrics())
  })
  return router
}

/** The /metrics app of `server.metricsPort`: that port serves nothing else. */
export function createMetricsApp(registry: Registry): Express {
  const app = exactApp()
  app.disable('x-powered-by')
  app.use(metricsRoutes(registry))
  return app
}
