/**
 * Forwarding one allowlisted call to ThoughtSpot (STYLE §8 steps 13–15), on http-proxy-middleware
 * with keep-alive upstream connections. The request body is already buffered (so a retry can
 * resend it); the response streams back unless it is an error, a 401, a 429 or an HTML page.
 *
 *  - headers: only the browser headers in `headers.ts` go up, plus the credential the BFF injects;
 *    only the safe upstream headers come back;
 *  - upstream 401: drop the credential, get a new one, resend once; a second 401 is 502
 *    UPSTREAM_AUTH_FAILED;
 *  - unreachable → 502 UPSTREAM_UNAVAILABLE; no answer in `timeoutMs` → 504 UPSTREAM_TIMEOUT;
 *    429 → 429 RATE_LIMITED with Retry-After; an HTML page (maintenance) → 503.
 */
import { Agent, type ClientRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import type { NextFunction, Request, Response } from 'express'
import { createProxyMiddleware } from 'http-proxy-middleware'
import { BffError } from '../errors.js'
import type { Metrics } from '../observability/metrics.js'
import type { UpstreamBudget } from '../thoughtspot/upstream.js'
import { MAX_ERROR_BODY, sanitizeErrorBody } from './error-body.js'
import { browserResponseHeaders, upstreamRequestHeaders } from './headers.js'

/** What the BFF adds to the upstream request for this user: a bearer token or a session cookie. */
export interface Credential {
  headers: Readonly<Record<string, string>>
  /** Values to scrub from error bodies (the token, the cookie values). */
  secrets: readonly string[]
}

export interface ForwardCall {
  /** The normalised upstream path (`/api/rest/2.0/...`), forwarded byte for byte. */
  path: string
  /** The raw query string including `?`, or ''. Forwarded unchanged. */
  query: string
  body: Buffer | undefined
  /** Sent upstream as x-request-id, so one id follows the call through both logs. */
  requestId: string
  /** Gets the credential; `renewed` after ThoughtSpot refused the previous one. */
  credential(renewed: boolean): Promise<Credential>
  /** Forgets the credential ThoughtSpot just refused. */
  dropCredential(): Promise<void>
}

export interface ForwarderOptions {
  host: string
  timeoutMs: number
  budget: UpstreamBudget
  metrics: Metrics
}

export type Forward = (
  req: Request,
  res: Response,
  next: NextFunction,
  call: ForwardCall,
) => Promise<void>

interface InFlight {
  call: ForwardCall
  next: NextFunction
  attempt: 1 | 2
  credential: Credential
  originalHeaders: Request['headers']
  release: () => void
  timer: NodeJS.Timeout | undefined
  timedOut: boolean
  settled: boolean
  stopTimer: (labels: { status: string }) => void
}

function isHtml(headers: IncomingMessage['headers']): boolean {
  return /^text\/html\b/i.test(headers['content-type'] ?? '')
}

function isJson(headers: IncomingMessage['headers']): boolean {
  return /^application\/(.+\+)?json\b/i.test(headers['content-type'] ?? '')
}

function readAll(stream: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let kept = 0
    stream.on('data', (chunk: Buffer) => {
      // Keep at most limit + 1 bytes: enough for the caller to see the body was too large.
      const room = limit + 1 - kept
      if (room <= 0) return
      const part = chunk.subarray(0, room)
      chunks.push(part)
      kept += part.length
    })
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}

export function createForwarder(options: Readonly<ForwarderOptions>): Forward {
  const { metrics } = options
  const inFlight = new WeakMap<Request, InFlight>()
  const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 64 }
  const agent = options.host.startsWith('https:')
    ? new HttpsAgent(agentOptions)
    : new Agent(agentOptions)

  /** Ends the call once: an error goes to the error handler, success is already streaming. */
  const settle = (req: Request, err?: BffError): void => {
    const state = inFlight.get(req)
    if (!state || state.settled) return
    state.settled = true
    clearTimeout(state.timer)
    state.release()
    if (err) state.next(err)
  }

  const proxy = createProxyMiddleware<Request, Response>({
    target: options.host,
    changeOrigin: true,
    xfwd: false,
    selfHandleResponse: true,
    followRedirects: false,
    agent,
    on: {
      proxyReq(proxyReq: ClientRequest, req: Request) {
        const state = inFlight.get(req)
        if (!state) return
        state.timer = setTimeout(() => {
          state.timedOut = true
          proxyReq.destroy(new Error('upstream timeout'))
        }, options.timeoutMs)
        if (state.call.body && state.call.body.length > 0) proxyReq.write(state.call.body)
      },
      proxyRes(proxyRes: IncomingMessage, req: Request, res: Response) {
        void onResponse(proxyRes, req, res)
      },
      error(err: Error, req: Request) {
        const state = inFlight.get(req)
        if (!state || state.settled) return
        state.stopTimer({ status: state.timedOut ? 'timeout' : 'error' })
        settle(
          req,
          state.timedOut
            ? new BffError('UPSTREAM_TIMEOUT', 'ThoughtSpot did not answer in time.', {
                cause: err,
              })
            : new BffError('UPSTREAM_UNAVAILABLE', 'ThoughtSpot is unreachable.', { cause: err }),
        )
      },
    },
  })

  async function send(req: Request, res: Response, state: InFlight): Promise<void> {
    state.release = await options.budget.acquire()
    if (res.destroyed || req.socket.destroyed) {
      // The browser gave up while this call waited for budget: ThoughtSpot never needs to see it.
      state.release()
      return
    }
    state.settled = false
    state.timedOut = false
    state.stopTimer = metrics.upstreamDuration.startTimer({ purpose: 'proxy' })
    const headers: Record<string, string | string[]> = {
      ...upstreamRequestHeaders(state.originalHeaders),
      ...state.credential.headers,
      'x-request-id': state.call.requestId,
    }
    // The BFF reads error bodies to scrub them, so it asks for them uncompressed.
    delete headers['accept-encoding']
    if (state.call.body && state.call.body.length > 0)
      headers['content-length'] = String(state.call.body.length)
    req.headers = headers
    req.url = `${state.call.path}${state.call.query}`
    await proxy(req, res, state.next)
  }

  async function onResponse(proxyRes: IncomingMessage, req: Request, res: Response): Promise<void> {
    const state = inFlight.get(req)
    if (!state || state.settled) {
      proxyRes.resume()
      return
    }
    clearTimeout(state.timer)
    const status = proxyRes.statusCode ?? 502
    state.stopTimer({ status: String(status) })
    try {
      if (status === 401) {
        proxyRes.resume()
        if (state.attempt === 2) {
          throw new BffError(
            'UPSTREAM_AUTH_FAILED',
            'ThoughtSpot refused the user’s credentials twice.',
          )
        }
        // Give the slot back but stay unsettled: if getting a new credential fails, the catch
        // below still answers this request.
        state.release()
        await state.call.dropCredential()
        const retry: InFlight = {
          ...state,
          attempt: 2,
          credential: await state.call.credential(true),
          timer: undefined,
        }
        inFlight.set(req, retry)
        await send(req, res, retry)
        return
      }
      if (status === 429) {
        proxyRes.resume()
        const retryAfter = Number(proxyRes.headers['retry-after'])
        throw new BffError(
          'RATE_LIMITED',
          'ThoughtSpot is rate-limiting this service; retry shortly.',
          {
            retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 1,
          },
        )
      }
      if (isHtml(proxyRes.headers)) {
        proxyRes.resume()
        throw new BffError(
          'UPSTREAM_UNAVAILABLE',
          'ThoughtSpot answered with a maintenance or error page.',
          {
            status: 503,
          },
        )
      }
      const headers = browserResponseHeaders(proxyRes.headers)
      if (status >= 400) {
        const body = sanitizeErrorBody(
          await readAll(proxyRes, MAX_ERROR_BODY),
          state.credential.secrets,
          isJson(proxyRes.headers),
        )
        headers['content-length'] = String(body.length)
        settle(req)
        res.writeHead(status, headers).end(body)
        return
      }
      // Streaming: the budget slot is held until the upstream body is done.
      state.settled = true
      proxyRes.once('close', () => {
        state.release()
        // ThoughtSpot broke off mid-body: end the browser's response too rather than hang it.
        if (!proxyRes.complete) res.destroy()
      })
      res.writeHead(status, headers)
      proxyRes.pipe(res)
    } catch (err) {
      settle(
        req,
        err instanceof BffError
          ? err
          : new BffError('UPSTREAM_UNAVAILABLE', 'ThoughtSpot answer failed.', { cause: err }),
      )
    }
  }

  return async function forward(req, res, next, call) {
    const state: InFlight = {
      call,
      next,
      attempt: 1,
      credential: await call.credential(false),
      originalHeaders: { ...req.headers },
      release: () => undefined,
      timer: undefined,
      timedOut: false,
      settled: false,
      stopTimer: () => undefined,
    }
    inFlight.set(req, state)
    // If the browser goes away, give the budget slot back.
    res.on('close', () => settle(req))
    await send(req, res, state)
  }
}
