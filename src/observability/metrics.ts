/**
 * Prometheus metrics (SPEC §5 /metrics). One registry per app instance, so tests can build many
 * apps in one process. Labels never hold usernames or raw paths: routes are the mounted pattern.
 */
import express, { type Express } from 'express'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface Metrics {
  registry: Registry
  httpRequests: Counter<'method' | 'route' | 'status'>
  upstreamDuration: Histogram<'purpose' | 'status'>
  tokenMints: Counter<'api' | 'outcome'>
  tokenCacheHits: Counter
  tokenCacheMisses: Counter
  singleflightJoins: Counter
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'tsbff_' })
  const registers = [registry]
  return {
    registry,
    httpRequests: new Counter({
      name: 'tsbff_http_requests_total',
      help: 'HTTP requests served, by method, route pattern and status.',
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
  }
}

/** The /metrics app, served on its own port (`server.metricsPort`) and never on the public one. */
export function createMetricsApp(registry: Registry): Express {
  const app = express()
  app.disable('x-powered-by')
  app.get('/metrics', async function metricsRoute(_req, res) {
    res.type(registry.contentType).send(await registry.metrics())
  })
  return app
}
