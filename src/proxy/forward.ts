/**
 * The proxy's last step: send one allowlisted call to ThoughtSpot on http-proxy-middleware, with
 * keep-alive upstream connections, and stream the answer back (`answer.ts`).
 *
 * The library is handed an *upstream request* built from the request scope — the checked target,
 * the headers `headers.ts` lets through, the user's credential, the request id and the buffered
 * body — rather than the browser's request, which is never changed. The library builds its
 * outgoing request from whatever it is given (and Node may send its headers at once, e.g. for
 * an `Expect` header), so what it is given must already be exactly what ThoughtSpot may see.
 *
 *  - upstream 401: drop the credential, get a new one, send a fresh upstream request once; a
 *    second 401 is 502 UPSTREAM_AUTH_FAILED;
 *  - unreachable or no answer in `timeoutMs`: classified by `upstream/answers.ts`.
 */
import {
  Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { NextFunction, Request, Response } from 'express'
import { createProxyMiddleware } from 'http-proxy-middleware'
import { BffError } from '../errors.js'
import type { Metrics } from '../observability/metrics.js'
import { credentialOf, scopeOf, targetOf } from '../scope.js'
import { describeTransportFailure, transportFailure } from '../upstream/answers.js'
import type { UpstreamBudget } from '../upstream/budget.js'
import { sendAnswer } from './answer.js'
import type { ProxyCredentials } from './credential.js'
import { upstreamRequestHeaders } from './headers.js'

export type { Credential } from './credential.js'

/** Options of {@link createForwarder}. */
export interface ForwarderOptions {
  host: string
  timeoutMs: number
  budget: UpstreamBudget
  metrics: Metrics
  credentials: ProxyCredentials
}

/** One attempt of a proxied call in flight, kept in the request scope. */
export interface UpstreamCall {
  attempt: 1 | 2
  next: NextFunction
  /** Gives the budget slot back; safe to call more than once. */
  release: () => void
  /** The request to ThoughtSpot, once the library made it. */
  proxyReq: ClientRequest | undefined
  timer: NodeJS.Timeout | undefined
  timedOut: boolean
  /** True once the browser's response is decided (streaming, sent, or handed to `next`). */
  settled: boolean
  stopTimer: (labels: { status: string }) => void
}

/** What http-proxy reads of the request it forwards; the body is the stream itself. */
interface UpstreamRequest extends Readable {
  method: string
  url: string
  headers: IncomingHttpHeaders
  httpVersion: string
  socket: Socket
}

/**
 * Idle keep-alive sockets kept per ThoughtSpot host: enough for the default upstream concurrency
 * (64) to reuse connections instead of opening new ones under load.
 */
export const UPSTREAM_FREE_SOCKETS = 64

/** Builds the forwarding middleware. */
export function createForwarder(options: Readonly<ForwarderOptions>) {
  const { metrics, credentials } = options
  const upstreamHost = new URL(options.host).host
  const agentOptions = { keepAlive: true, maxFreeSockets: UPSTREAM_FREE_SOCKETS }
  const agent = options.host.startsWith('https:')
    ? new HttpsAgent(agentOptions)
    : new Agent(agentOptions)

  /** Ends the attempt once: an error goes to the error handler, success is already streaming. */
  const settle = (res: Response, err?: BffError): void => {
    const call = scopeOf(res).upstream
    if (!call || call.settled) return
    call.settled = true
    clearTimeout(call.timer)
    call.release()
    if (err) call.next(err)
  }

  const proxy = createProxyMiddleware<IncomingMessage, Response>({
    target: options.host,
    changeOrigin: true,
    xfwd: false,
    selfHandleResponse: true,
    followRedirects: false,
    agent,
    // No default plugins: the BFF answers errors and logs itself, and the library's logger plugin
    // would build a URL for every answer only to drop it.
    ejectPlugins: true,
    plugins: [
      (server) => {
        server.on('proxyReq', (proxyReq, _upstream, res) => onProxyReq(proxyReq, res))
        server.on('proxyRes', (proxyRes, _upstream, res) => void onAnswer(proxyRes, res))
        server.on('error', (err, _upstream, res) => {
          if ('locals' in res) onError(err, res)
        })
      },
    ],
  })

  function onProxyReq(proxyReq: ClientRequest, res: Response): void {
    const call = scopeOf(res).upstream
    if (!call) return
    call.proxyReq = proxyReq
    call.timer = setTimeout(() => {
      call.timedOut = true
      proxyReq.destroy(new Error('upstream timeout'))
    }, options.timeoutMs)
  }

  function onError(err: Error, res: Response): void {
    const scope = scopeOf(res)
    const call = scope.upstream
    if (!call || call.settled) return
    call.stopTimer({ status: call.timedOut ? 'timeout' : 'error' })
    // The same line as the BFF's own calls (upstream/fetch.ts): which host, and why.
    const { cause } = describeTransportFailure(err)
    scope.log.warn(
      {
        event: 'upstream.failed',
        purpose: 'proxy',
        host: upstreamHost,
        timedOut: call.timedOut,
        cause,
      },
      call.timedOut
        ? `ThoughtSpot at ${upstreamHost} did not answer a proxied call within ${options.timeoutMs} ms`
        : `ThoughtSpot at ${upstreamHost} is unreachable (proxied call): ${cause}`,
    )
    settle(res, transportFailure(err, call.timedOut))
  }

  async function send(req: Request, res: Response, attempt: 1 | 2, next: NextFunction) {
    const release = await options.budget.acquire()
    if (res.destroyed || req.socket.destroyed) {
      // The browser gave up while this call waited for budget: ThoughtSpot never needs to see it.
      release()
      return
    }
    scopeOf(res).upstream = {
      attempt,
      next,
      release,
      proxyReq: undefined,
      timer: undefined,
      timedOut: false,
      settled: false,
      stopTimer: metrics.upstreamDuration.startTimer({ purpose: 'proxy' }),
    }
    // http-proxy reads only the fields an UpstreamRequest has (and pipes it as the body).
    await proxy(upstreamRequest(req, res) as unknown as IncomingMessage, res, next)
  }

  async function onAnswer(proxyRes: IncomingMessage, res: Response): Promise<void> {
    const call = scopeOf(res).upstream
    if (!call || call.settled) {
      proxyRes.resume()
      return
    }
    clearTimeout(call.timer)
    const status = proxyRes.statusCode ?? 502
    call.stopTimer({ status: String(status) })
    try {
      if (status === 401) {
        proxyRes.resume()
        await retryOnce(res, call)
        return
      }
      const scope = scopeOf(res)
      await sendAnswer(proxyRes, res, {
        secrets: credentialOf(res).secrets,
        requestId: scope.requestId,
        method: res.req.method,
        path: targetOf(res).path,
        // A getter: the child logger is made only if the answer has something to warn about.
        get log() {
          return scope.log
        },
        // Streaming holds the budget slot until the upstream body is done.
        onStreaming: () => {
          call.settled = true
          proxyRes.once('close', call.release)
        },
        onSent: () => settle(res),
      })
    } catch (err) {
      settle(
        res,
        err instanceof BffError
          ? err
          : new BffError('UPSTREAM_UNAVAILABLE', 'ThoughtSpot answer failed.', { cause: err }),
      )
    }
  }

  /** ThoughtSpot refused the credential: a new one, and the buffered request once more. */
  async function retryOnce(res: Response, call: UpstreamCall): Promise<void> {
    if (call.attempt === 2) {
      throw new BffError(
        'UPSTREAM_AUTH_FAILED',
        'ThoughtSpot refused the user’s credentials twice.',
      )
    }
    // Give the slot back but stay unsettled: if getting a new credential fails, the caller still
    // answers this request.
    call.release()
    await credentials.drop(res)
    scopeOf(res).credential = await credentials.get(res, true)
    call.settled = true
    await send(res.req, res, 2, call.next)
  }

  return async function forwardToThoughtSpot(
    req: Request,
    res: Response,
    next: NextFunction,
  ): Promise<void> {
    res.on('close', () => {
      // The browser went away: stop the upstream call and give the budget slot back.
      const call = scopeOf(res).upstream
      if (call && !res.writableFinished) call.proxyReq?.destroy()
      settle(res)
    })
    await send(req, res, 1, next)
  }
}

/** The request http-proxy sends for this attempt: built from the scope, see the module comment. */
function upstreamRequest(req: Request, res: Response): UpstreamRequest {
  const { requestId } = scopeOf(res)
  const target = targetOf(res)
  const body: unknown = req.body
  const bytes = Buffer.isBuffer(body) && body.length > 0 ? body : undefined
  const headers: IncomingHttpHeaders = {
    ...upstreamRequestHeaders(req.headers),
    ...credentialOf(res).headers,
    'x-request-id': requestId,
  }
  if (bytes) headers['content-length'] = String(bytes.length)
  return Object.assign(Readable.from(bytes ? [bytes] : []), {
    method: req.method,
    url: `${target.path}${target.query}`,
    headers,
    httpVersion: req.httpVersion,
    socket: req.socket,
  })
}
