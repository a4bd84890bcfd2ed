/**
 * The HTTP listener, set up in one place for main.ts and the test stack alike: its timeouts and
 * header limits come from the config (never Node's defaults by accident), and a request target in
 * absolute form is turned into the origin form every later step expects.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

/** The listener settings of `server.*` in the config file. */
export interface ListenerSettings {
  /** Whole request head (request line and headers) must arrive within this; slowloris bound. */
  headersTimeoutMs: number
  /** Whole request (head and body) must arrive within this; slow-body bound. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this; must outlast the load balancer's. */
  keepAliveTimeoutMs: number
  /** Largest request head accepted, in bytes; above it Node answers 431 and closes. */
  maxHeaderBytes: number
  /** Largest request body; a request declaring more is told not to send it (no 100 Continue). */
  bodyLimit: number
}

/** What the listener hands each request to: an express app is one. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void

/**
 * How often Node checks the two request timeouts. Node 20 checks them on a timer (30 s by
 * default), so a deadline is enforced only that late; a quarter of the head timeout, within
 * 50 ms – 1 s, keeps enforcement close to the setting at the cost of one scan of open connections.
 */
function checkingIntervalMs(settings: ListenerSettings): number {
  return Math.min(1000, Math.max(50, Math.floor(settings.headersTimeoutMs / 4)))
}

/**
 * Builds the listener for `handler` with `settings` applied; the caller listens on it.
 *
 * `maxHeadersCount` is 0 (no count): Node drops headers past the count silently, so a client
 * sending many junk headers could push out one that a proxy in front appended (X-Forwarded-For)
 * or that the BFF needs. The head stays bounded by `maxHeaderBytes`, which refuses (431) instead.
 *
 * @example
 * const server = createListener(app, config.server)
 * server.listen(config.server.port, config.server.host)
 */
export function createListener(
  handler: RequestListener,
  settings: Readonly<ListenerSettings>,
): Server {
  const server = createServer(
    {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      maxHeaderSize: settings.maxHeaderBytes,
      connectionsCheckingInterval: checkingIntervalMs(settings),
    },
    (req, res) => {
      toOriginForm(req)
      handler(req, res)
    },
  )
  server.keepAliveTimeout = settings.keepAliveTimeoutMs
  server.maxHeadersCount = 0
  // `Expect: 100-continue`: Node would answer `100 Continue` before the app sees the request,
  // inviting a body the app then refuses (413) after the client has begun uploading it. A body
  // declared above the limit gets no invitation, only the app's 413; everything else the
  // `100 Continue` Node would have sent.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers['content-length']) > settings.bodyLimit)) res.writeContinue()
    toOriginForm(req)
    handler(req, res)
  })
  return server
}

/** Listens with {@link createListener} on `port`/`host`; resolves once listening. */
export function listen(
  handler: RequestListener,
  settings: Readonly<ListenerSettings>,
  port: number,
  host: string,
): Promise<Server> {
  const server = createListener(handler, settings)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)/i

/**
 * Rewrites an absolute-form request target (`POST http://bff/ts/... HTTP/1.1`, RFC 9112 §3.2.2)
 * to its origin form (`/ts/...`), and takes the host from it as that section requires. Express
 * routes such a request by its path already, but `req.originalUrl` keeps the scheme and host,
 * so every step that reads the path from it (the proxy's path check, the access log) would read
 * `http://…` instead. Other targets are left as they are.
 */
export function toOriginForm(req: IncomingMessage): void {
  const url = req.url ?? ''
  if (url.startsWith('/')) return
  const match = ABSOLUTE_FORM.exec(url)
  if (!match) return
  const rest = url.slice(match[0].length)
  req.url = rest.startsWith('/') ? rest : `/${rest}`
  const authority = (match[1] ?? '').slice((match[1] ?? '').lastIndexOf('@') + 1)
  if (authority !== '') req.headers.host = authority
}

/**
 * The start-up warning for `server.trustProxy`, or undefined when it is off. The BFF cannot see
 * whether a proxy really is in front; when none is, a client writes X-Forwarded-For itself and
 * picks the IP its per-IP limit counts, and X-Forwarded-Proto makes plain http look like https.
 */
export function trustProxyWarning(trustProxy: boolean | number): string | undefined {
  if (trustProxy === false) return undefined
  const hops = trustProxy === true ? 1 : trustProxy
  return (
    `server.trustProxy is ${String(trustProxy)}: X-Forwarded-For/-Proto/-Host are believed from ` +
    `the ${hops === 1 ? 'proxy' : `${hops} proxies`} in front. Check that clients can reach the ` +
    'BFF only through it (private address or firewall) and that it overwrites X-Forwarded-Proto ' +
    'and X-Forwarded-Host; with nothing in front, a client picks its own IP and scheme. ' +
    'Exposed directly, set server.trustProxy: false.'
  )
}
