/**
 * The benchmark's ThoughtSpot: a minimal node:http server, its own process, that answers only
 * what the BFF calls, as cheaply as a server can, so that it is never what a run measures.
 *
 * - `POST /api/rest/2.0/auth/token/full|object|custom` checks `secret_key` and `username` and
 *   answers a random token with `expiration_time_in_millis` = now + `validity_time_in_sec`;
 * - `POST /api/rest/2.0/auth/token/revoke` → 204;
 * - `POST /api/rest/2.0/searchdata` → a prebuilt ~2 KB JSON body, `POST
 *   /api/rest/2.0/metadata/search` → a prebuilt ~20 KB one; both need `Authorization: Bearer
 *   <a token minted here and not expired>`, else 401.
 *
 * It counts calls per route, the most calls that arrived within any one second (sliding window)
 * and the most in flight at once. Control routes, not counted: `GET /__bench/stats`, `POST
 * /__bench/reset`. Env: PORT (required), BENCH_TS_SECRET (required). SIGTERM/SIGINT stop it.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

/** What `GET /__bench/stats` answers: counters since the last reset. */
export interface UpstreamStats {
  /** Calls per route: `mint:full`, `mint:object`, `mint:custom`, `revoke`, `searchdata`, … */
  calls: Record<string, number>
  mints: number
  /** Data calls refused with 401 (no, unknown or expired bearer token). */
  unauthorized: number
  /** The most counted calls (mints, revokes, data) that arrived within any one second. */
  maxPerSecond: number
  /** The most mints that arrived within any one second. */
  maxMintsPerSecond: number
  /** The most counted calls in flight at once. */
  maxInFlight: number
}

const API = '/api/rest/2.0'
const MINT_PREFIX = `${API}/auth/token/`

/** A searchdata-shaped answer of about `bytes` bytes. */
function dataBody(bytes: number): Buffer {
  const columns = ['Region', 'Product', 'Quarter', 'Revenue', 'Units']
  const rows: unknown[][] = []
  const wrap = (n: number): string =>
    JSON.stringify({
      contents: [
        {
          column_names: columns,
          data_rows: rows.slice(0, n),
          record_offset: 0,
          record_size: n,
          returned_data_row_count: n,
          available_data_row_count: 100_000,
          sampling_ratio: 1,
        },
      ],
    })
  for (let i = 0; wrap(rows.length).length < bytes; i++) {
    rows.push([`region-${i % 7}`, `product-${i % 13}`, `2026-Q${(i % 4) + 1}`, i * 1013.25, i * 7])
  }
  return Buffer.from(wrap(rows.length))
}

const BODIES: Record<string, Buffer> = {
  [`${API}/searchdata`]: dataBody(2 * 1024),
  [`${API}/metadata/search`]: dataBody(20 * 1024),
}

/** Counts arrivals and keeps the largest number seen within any `windowMs`. */
class SlidingMax {
  #times: number[] = []
  #head = 0
  max = 0

  add(at: number): void {
    this.#times.push(at)
    while ((this.#times[this.#head] as number) <= at - 1000) this.#head++
    this.max = Math.max(this.max, this.#times.length - this.#head)
    // Compact now and then so the array does not grow with the whole run.
    if (this.#head > 4096) {
      this.#times = this.#times.slice(this.#head)
      this.#head = 0
    }
  }
}

function counters() {
  return {
    calls: {} as Record<string, number>,
    unauthorized: 0,
    all: new SlidingMax(),
    mints: new SlidingMax(),
    inFlight: 0,
    maxInFlight: 0,
  }
}

const secret = process.env.BENCH_TS_SECRET ?? ''
const port = Number(process.env.PORT)
if (secret === '' || !Number.isInteger(port)) {
  process.stderr.write('upstream: PORT and BENCH_TS_SECRET are required\n')
  process.exit(2)
}

/** Minted tokens → expiry (epoch ms). */
const tokens = new Map<string, number>()
let count = counters()

function send(res: ServerResponse, status: number, body?: Buffer | string): void {
  if (body === undefined) {
    res.writeHead(status).end()
    return
  }
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length })
    .end(bytes)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

const error = (message: string): string =>
  JSON.stringify({ error: { message: { debug: message } } })

function bearerOk(req: IncomingMessage): boolean {
  const header = req.headers.authorization
  if (header?.startsWith('Bearer ') !== true) return false
  const expiresAt = tokens.get(header.slice(7))
  return expiresAt !== undefined && expiresAt > Date.now()
}

async function mint(kind: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: Record<string, unknown>
  try {
    body = JSON.parse(await readBody(req)) as Record<string, unknown>
  } catch {
    send(res, 400, error('body is not JSON'))
    return
  }
  if (body.secret_key !== secret) return send(res, 401, error('bad secret_key'))
  const { username } = body
  if (typeof username !== 'string' || username === '') {
    return send(res, 400, error('username is required'))
  }
  const validity = typeof body.validity_time_in_sec === 'number' ? body.validity_time_in_sec : 300
  const now = Date.now()
  const token = randomBytes(24).toString('base64url')
  const expiresAt = now + validity * 1000
  tokens.set(token, expiresAt)
  const common = { token, creation_time_in_millis: now, expiration_time_in_millis: expiresAt }
  const answer =
    kind === 'custom'
      ? {
          ...common,
          id: null,
          org: { id: 0, name: 'Primary' },
          user: { id: username, name: username },
        }
      : { ...common, valid_for_user_id: `guid-${username}`, valid_for_username: username }
  send(res, 200, JSON.stringify(answer))
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] as string
  if (path === '/__bench/stats') {
    const stats: UpstreamStats = {
      calls: count.calls,
      mints: Object.entries(count.calls)
        .filter(([route]) => route.startsWith('mint:'))
        .reduce((sum, [, n]) => sum + n, 0),
      unauthorized: count.unauthorized,
      maxPerSecond: count.all.max,
      maxMintsPerSecond: count.mints.max,
      maxInFlight: count.maxInFlight,
    }
    return send(res, 200, JSON.stringify(stats))
  }
  if (path === '/__bench/reset' && req.method === 'POST') {
    count = counters()
    return send(res, 204)
  }

  const body = BODIES[path]
  const kind = path.startsWith(MINT_PREFIX) ? path.slice(MINT_PREFIX.length) : null
  const route =
    body !== undefined
      ? path.slice(API.length + 1)
      : kind === 'full' || kind === 'object' || kind === 'custom'
        ? `mint:${kind}`
        : kind === 'revoke'
          ? 'revoke'
          : null
  if (route === null || req.method !== 'POST') {
    req.resume()
    return send(res, 404, error('not a benchmark route'))
  }

  const now = Date.now()
  count.calls[route] = (count.calls[route] ?? 0) + 1
  count.all.add(now)
  if (route.startsWith('mint:')) count.mints.add(now)
  const tally = count
  tally.maxInFlight = Math.max(tally.maxInFlight, ++tally.inFlight)
  res.once('close', () => tally.inFlight--)

  if (body !== undefined) {
    req.resume()
    if (!bearerOk(req)) {
      count.unauthorized++
      return send(res, 401, error('no live bearer token'))
    }
    return send(res, 200, body)
  }
  if (route === 'revoke') {
    const header = req.headers.authorization ?? ''
    tokens.delete(header.replace(/^Bearer /, ''))
    req.resume()
    return send(res, 204)
  }
  await mint(kind as string, req, res)
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) send(res, 500, error('upstream failed'))
  })
})
// Longer than any client's idle time, so the proxies' keep-alive sockets are never cut under them.
server.keepAliveTimeout = 120_000
server.listen(port, '127.0.0.1')

const stop = (): void => {
  server.close(() => process.exit(0))
  server.closeAllConnections()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
