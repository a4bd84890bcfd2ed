/**
 * The throughput rows: what each one sends, to which process, and whose CPU and memory count.
 * Every row hits the same upstream route with the same request body; only what sits in between
 * changes (nothing, a bare proxy, the naive stack, the BFF with memory or Redis state).
 */
import type { Child } from './children.js'
import type { LoadSpec } from './load.js'
import { VIA_TLS, type Bff, type Target, type Upstream } from './stack.js'

/** The upstream data routes: ~2 KB and ~20 KB JSON answers. */
export const DATA_ROUTES = {
  small: { path: '/api/rest/2.0/searchdata', label: 'POST searchdata (2 KB)' },
  large: { path: '/api/rest/2.0/metadata/search', label: 'POST metadata/search (20 KB)' },
} as const

type Size = keyof typeof DATA_ROUTES

/** The request body every data row sends. */
export const SEARCH_BODY = JSON.stringify({
  query_string: '[Revenue] [Region] [Quarter]',
  logical_table_identifier: 'cd252e5c-b552-49a8-821d-3eadaa049cca',
  record_size: 50,
})

/** One throughput row. */
export interface Row {
  id: string
  /** What sits between the load generator and the upstream. */
  target: string
  route: string
  /** The process under test: its CPU time and RSS are what the row reports. */
  process: Child
  spec: LoadSpec
  /** The upstream data route each request must reach (null: none, e.g. a cached token). */
  upstreamRoute: string | null
}

/** The started processes and credentials the rows are built from. */
export interface Fixtures {
  upstream: Upstream
  bare: Target
  naive: Target
  bff: Bff
  redisBff?: Bff
  /** A token minted straight from the upstream, for the rows without the BFF. */
  tsToken: string
  /** The app JWT of the user every BFF row runs as (token already cached). */
  jwt: string
  /** That user's session cookie (`name=value`) on `bff`, and on `redisBff`. */
  cookie: string
  redisCookie?: string
}

const json = { 'content-type': 'application/json' }

function data(base: string, size: Size, headers: Record<string, string>): LoadSpec {
  return { url: `${base}${DATA_ROUTES[size].path}`, method: 'POST', headers, body: SEARCH_BODY }
}

const bearerOf = (jwt: string): Record<string, string> => ({
  ...json,
  authorization: `Bearer ${jwt}`,
  ...VIA_TLS,
})

function bffData(
  id: string,
  target: string,
  bff: Bff,
  size: Size,
  headers: Record<string, string>,
): Row {
  return {
    id,
    target,
    route: DATA_ROUTES[size].label,
    process: bff.child,
    spec: data(`${bff.url}/ts`, size, headers),
    upstreamRoute: DATA_ROUTES[size].path,
  }
}

/** Proxied by bearer and by cookie, and the cached token route, on one BFF. */
function bffRows(prefix: string, target: string, bff: Bff, jwt: string, cookie: string): Row[] {
  const viaCookie = { ...json, cookie, 'x-csrf': '1', ...VIA_TLS }
  return [
    bffData(`${prefix}-bearer`, `${target}, bearer app JWT`, bff, 'small', bearerOf(jwt)),
    bffData(`${prefix}-cookie`, `${target}, session cookie`, bff, 'small', viaCookie),
    {
      id: `${prefix}-token`,
      target: `${target}, bearer app JWT`,
      route: 'GET /ts/auth/token (cached)',
      process: bff.child,
      spec: {
        url: `${bff.url}/ts/auth/token`,
        method: 'GET',
        headers: { authorization: `Bearer ${jwt}`, ...VIA_TLS },
      },
      upstreamRoute: null,
    },
  ]
}

/** The BFF's proxied searchdata call by bearer app JWT (the row `--profile` runs). */
export function proxiedBearerRow(bff: Bff, jwt: string): Row {
  return bffData('bff-bearer', 'BFF (memory), bearer app JWT', bff, 'small', bearerOf(jwt))
}

/** Every throughput row, in the order each round runs them. */
export function throughputRows(f: Fixtures): Row[] {
  const bearer = { ...json, authorization: `Bearer ${f.tsToken}` }
  const baseline = (id: string, target: string, t: Target, size: Size): Row => ({
    id: size === 'small' ? id : `${id}-20k`,
    target,
    route: DATA_ROUTES[size].label,
    process: t.child,
    spec: data(t.url, size, bearer),
    upstreamRoute: DATA_ROUTES[size].path,
  })
  const direct = { name: 'upstream', url: f.upstream.url, child: f.upstream.child }
  const rows: Row[] = [
    baseline('direct', 'upstream direct (ceiling)', direct, 'small'),
    baseline('bare', 'bare node:http proxy', f.bare, 'small'),
    baseline('naive', 'naive express stack', f.naive, 'small'),
    ...bffRows('bff', 'BFF (memory)', f.bff, f.jwt, f.cookie),
    baseline('direct', 'upstream direct (ceiling)', direct, 'large'),
    baseline('bare', 'bare node:http proxy', f.bare, 'large'),
    baseline('naive', 'naive express stack', f.naive, 'large'),
    bffData('bff-bearer-20k', 'BFF (memory), bearer app JWT', f.bff, 'large', bearerOf(f.jwt)),
  ]
  if (f.redisBff && f.redisCookie) {
    rows.push(...bffRows('redis', 'BFF (Redis)', f.redisBff, f.jwt, f.redisCookie))
  }
  return rows
}
