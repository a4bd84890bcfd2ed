/**
 * The one door for the BFF's own calls to ThoughtSpot (mint, revoke, v1 login): timeout, error
 * mapping, latency metric and — through `UpstreamBudget` — the shared upstream rate budget.
 * Failures become typed BffErrors here, where they arise; nothing of a request body (which may
 * hold the secret key) or of ThoughtSpot's answer reaches a client.
 */
import { BffError, type ErrorCode } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'

export type UpstreamPurpose = 'mint' | 'revoke' | 'login' | 'logout'

export interface UpstreamRequest {
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
  purpose: UpstreamPurpose
  /** What a 2xx answer must be: JSON (default), text, or nothing in particular. */
  expect?: 'json' | 'text' | 'any'
  /** Manual redirects for v1 login (a 302 is an answer, not something to follow). */
  redirect?: 'manual'
}

export type UpstreamFetch = (url: string, request: UpstreamRequest) => Promise<Response>

/** Grants permission for one upstream request; resolves to a release function. */
export interface UpstreamBudget {
  acquire(): Promise<() => void>
}

export const unlimitedBudget: UpstreamBudget = { acquire: () => Promise.resolve(() => undefined) }

export interface UpstreamOptions {
  timeoutMs: number
  log: Logger
  metrics: Metrics
  budget?: UpstreamBudget
}

/** Which code a refused answer becomes, by purpose: a refused mint is UPSTREAM_AUTH_FAILED. */
const REFUSAL_CODE: Readonly<Record<UpstreamPurpose, ErrorCode>> = {
  mint: 'UPSTREAM_AUTH_FAILED',
  login: 'UPSTREAM_AUTH_FAILED',
  revoke: 'UPSTREAM_UNAVAILABLE',
  logout: 'UPSTREAM_UNAVAILABLE',
}

/** ThoughtSpot's error code and incident id, if its body has them: safe to log, never the rest. */
export async function errorFacts(response: Response): Promise<Record<string, unknown>> {
  try {
    const text = await response.text()
    const json = JSON.parse(text.slice(0, 64 * 1024)) as { error?: { message?: unknown } }
    const message = json.error?.message
    if (message && typeof message === 'object') {
      const { code, incident_id_guid: incident } = message as Record<string, unknown>
      return { tsCode: code, tsIncident: incident }
    }
  } catch {
    // Not JSON: nothing safe to report beyond the status.
  }
  return {}
}

function isJson(response: Response): boolean {
  return /^application\/(.+\+)?json\b/i.test(response.headers.get('content-type') ?? '')
}

export function createUpstreamFetch(options: Readonly<UpstreamOptions>): UpstreamFetch {
  const budget = options.budget ?? unlimitedBudget
  return async function upstreamFetch(url, request) {
    const release = await budget.acquire()
    const stopTimer = options.metrics.upstreamDuration.startTimer({ purpose: request.purpose })
    let response: Response
    try {
      response = await fetch(url, {
        method: request.method,
        headers: { 'user-agent': 'thoughtspot-bff', ...request.headers },
        ...(request.body === undefined ? {} : { body: request.body }),
        redirect: request.redirect ?? 'error',
        signal: AbortSignal.timeout(options.timeoutMs),
      })
    } catch (err) {
      stopTimer({ status: 'error' })
      release()
      const timedOut =
        err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError')
      options.log.warn(
        { event: 'upstream.failed', purpose: request.purpose, timedOut },
        'ThoughtSpot unreachable',
      )
      throw timedOut
        ? new BffError('UPSTREAM_TIMEOUT', 'ThoughtSpot did not answer in time.', { cause: err })
        : new BffError('UPSTREAM_UNAVAILABLE', 'ThoughtSpot is unreachable.', { cause: err })
    }
    stopTimer({ status: String(response.status) })
    release()
    return checkAnswer(response, request, options.log)
  }
}

async function checkAnswer(
  response: Response,
  request: UpstreamRequest,
  log: Logger,
): Promise<Response> {
  const { status } = response
  if (status === 429) {
    const retryAfter = Number(response.headers.get('retry-after'))
    await response.body?.cancel()
    throw new BffError(
      'RATE_LIMITED',
      'ThoughtSpot is rate-limiting this service; retry shortly.',
      {
        retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 1,
      },
    )
  }
  const expected = request.redirect === 'manual' && status >= 300 && status < 400
  if (!response.ok && !expected) {
    log.warn(
      {
        event: 'upstream.refused',
        purpose: request.purpose,
        status,
        ...(await errorFacts(response)),
      },
      'ThoughtSpot refused a call',
    )
    const code =
      status >= 500 && request.purpose !== 'mint'
        ? 'UPSTREAM_UNAVAILABLE'
        : REFUSAL_CODE[request.purpose]
    throw new BffError(code, `ThoughtSpot refused the ${request.purpose} call (status ${status}).`)
  }
  const expect = request.expect ?? 'json'
  const html = /^text\/html\b/i.test(response.headers.get('content-type') ?? '')
  if (status !== 204 && ((expect === 'json' && !isJson(response)) || (expect === 'text' && html))) {
    await response.body?.cancel()
    log.warn(
      { event: 'upstream.not_json', purpose: request.purpose, status },
      'ThoughtSpot sent a non-API page',
    )
    throw new BffError(
      'UPSTREAM_UNAVAILABLE',
      'ThoughtSpot answered with a maintenance or error page.',
      {
        status: 503,
      },
    )
  }
  return response
}
