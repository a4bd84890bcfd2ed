/**
 * The HTTP listener, set up in one place for main.ts and the test stack alike: its timeouts and
 * header limits come from the config (never Node's defaults by accident), a request target in
 * absolute form is turned into the origin form every later step expects, what Node's parser
 * refuses still gets the JSON error shape, and an oversized body is not invited by `100 Continue`.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { BffError, toErrorBody, type ErrorCaseName } from '../errors.js'

/** The listener settings of `server.*` in the config file. */
export interface ListenerSettings {
  /** Whole request head (request line and headers) must arrive within this; slowloris bound. */
  headersTimeoutMs: number
  /** Whole request (head and body) must arrive within this; slow-body bound. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this; must outlast the load balancer's. */
  keepAliveTimeoutMs: number
  /** Largest request head accepted, in bytes; above it the answer is 431 and the socket closes. */
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
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    toOriginForm(req)
    handler(req, res)
  }
  const server = createServer(
    {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      maxHeaderSize: settings.maxHeaderBytes,
      connectionsCheckingInterval: checkingIntervalMs(settings),
    },
    serve,
  )
  server.keepAliveTimeout = settings.keepAliveTimeoutMs
  server.maxHeadersCount = 0
  server.on('clientError', answerClientError)
  // `Expect: 100-continue`: Node would answer `100 Continue` before the app sees the request,
  // inviting a body the app then refuses (413) after the client has begun uploading it. A body
  // declared above the limit gets no invitation, only the app's 413; everything else the
  // `100 Continue` Node would have sent.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers['content-length']) > settings.bodyLimit)) res.writeContinue()
    serve(req, res)
  })
  return server
}

/** Node's parser refusals, by its error code: the case, the status line's reason, the message. */
const CLIENT_ERRORS: Readonly<Record<string, [ErrorCaseName, string, string]>> = {
  HPE_HEADER_OVERFLOW: [
    'HEAD_TOO_LARGE',
    'Request Header Fields Too Large',
    'The request head is larger than allowed.',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [
    'REQUEST_TIMEOUT',
    'Request Timeout',
    'The request did not arrive in time.',
  ],
}
const MALFORMED: [ErrorCaseName, string, string] = [
  'BAD_REQUEST',
  'Bad Request',
  'The request is not well-formed HTTP.',
]

/**
 * What a request Node's parser refuses gets (a head too large, a head or body too slow, bytes
 * that are not HTTP): the §7 JSON error with the request's id (a fresh one when the app never
 * saw the request), then the connection closes; Node's own answer would be a bare status line.
 * Nothing is written when the peer is gone or a response on this connection has already begun
 * (it would corrupt it): then the socket is only destroyed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy()
    return
  }
  const [errorCase, reason, message] = CLIENT_ERRORS[err.code ?? ''] ?? MALFORMED
  const error = new BffError(errorCase, message)
  // A body that timed out belongs to a request the app has seen: answer with its id.
  const given = inFlight?.getHeader('x-request-id')
  const id = typeof given === 'string' ? given : randomUUID()
  const body = JSON.stringify(toErrorBody(error, id))
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${id}\r\n` +
      'cache-control: no-store\r\n' +
      'connection: close\r\n\r\n' +
      body,
  )
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
