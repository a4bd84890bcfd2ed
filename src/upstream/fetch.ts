/**
 * The one door for the BFF's own calls to ThoughtSpot (mint, revoke, v1 login and logout):
 * upstream budget, timeout, latency metric, and the answer classified by `answers.ts`. Failures
 * become typed BffErrors here, where they arise; nothing of a request body (which may hold the
 * secret key) or of ThoughtSpot's answer reaches a client.
 */
import { BffError, type ErrorCaseName } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import {
  describeTransportFailure,
  isHtmlType,
  isJsonType,
  isTimeoutAbort,
  maintenancePage,
  transportFailure,
  upstreamRateLimited,
} from './answers.js'
import type { UpstreamBudget } from './budget.js'

/** Why the BFF calls ThoughtSpot; a metric label, and it decides what a refusal means. */
export type UpstreamPurpose = 'mint' | 'revoke' | 'login' | 'logout'

/** One call of the BFF's own to ThoughtSpot. */
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

/** Sends one call to ThoughtSpot; resolves to an answer that passed the checks. */
export type UpstreamFetch = (url: string, request: UpstreamRequest) => Promise<Response>

/** Options of {@link createUpstreamFetch}. */
export interface UpstreamOptions {
  timeoutMs: number
  log: Logger
  metrics: Metrics
  budget: UpstreamBudget
}

/** Which case a refused answer becomes, by purpose: a refused mint is UPSTREAM_AUTH_FAILED. */
const REFUSAL: Readonly<Record<UpstreamPurpose, ErrorCaseName>> = {
  mint: 'UPSTREAM_AUTH_FAILED',
  login: 'UPSTREAM_AUTH_FAILED',
  revoke: 'UPSTREAM_UNAVAILABLE',
  logout: 'UPSTREAM_UNAVAILABLE',
}

/**
 * Drops an answer's body unread. Cancelling a body whose connection already broke rejects with
 * that break; the answer is being thrown away anyway, so that is no reason to fail the call.
 */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined)
}

/** Largest error body read for its code and incident id. */
const MAX_FACTS_BODY = 64 * 1024

/** ThoughtSpot's error code and incident id, if its body has them: safe to log, never the rest. */
export async function errorFacts(response: Response): Promise<Record<string, unknown>> {
  try {
    const text = await response.text()
    const json = JSON.parse(text.slice(0, MAX_FACTS_BODY)) as { error?: { message?: unknown } }
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

/** What to check when ThoughtSpot refuses to mint: the key, or trusted auth being off. */
export const BAD_SECRET_HINT = 'check TS_SECRET_KEY / trusted auth enabled for this cluster or org'

/**
 * ThoughtSpot's refusal of one of the BFF's own calls, kept as the cause of the BffError it
 * becomes: what an operator (or the check command) needs to see, and nothing of either body.
 */
export class UpstreamRefusal extends Error {
  readonly status: number
  /** ThoughtSpot's error code (10097 unauthorised, 10023 forbidden, …), when its body has one. */
  readonly tsCode: unknown
  readonly tsIncident: unknown
  /** What to check, when the refusal points at the configuration. */
  readonly hint: string | undefined

  constructor(
    purpose: UpstreamPurpose,
    status: number,
    facts: Record<string, unknown>,
    hint?: string,
  ) {
    const code =
      typeof facts.tsCode === 'number' || typeof facts.tsCode === 'string'
        ? facts.tsCode
        : undefined
    super(
      `ThoughtSpot refused the ${purpose} call (HTTP ${status}${code !== undefined ? `, code ${code}` : ''})${hint ? `: ${hint}` : ''}`,
    )
    this.name = 'UpstreamRefusal'
    this.status = status
    this.tsCode = facts.tsCode
    this.tsIncident = facts.tsIncident
    this.hint = hint
  }
}

/**
 * The hint for a refused mint. REST v2 answers 401 for a wrong key and 403 (code 10023) when
 * trusted authentication is off for the cluster or org; REST v1 `session/auth/token` answers 500
 * when it is off. Other refusals (400: a bad field) are not the key's fault.
 */
function mintHint(url: string, status: number): string | undefined {
  if (status === 401 || status === 403) return BAD_SECRET_HINT
  if (status === 500 && url.includes('/session/auth/token')) {
    return `${BAD_SECRET_HINT} (REST v1 answers 500 when trusted auth is off)`
  }
  return undefined
}

/** Builds the door; every call takes a slot of `budget` for as long as it is in flight. */
export function createUpstreamFetch(options: Readonly<UpstreamOptions>): UpstreamFetch {
  const { log, metrics, budget } = options
  return async function upstreamFetch(url, request) {
    const release = await budget.acquire()
    const stopTimer = metrics.upstreamDuration.startTimer({ purpose: request.purpose })
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
      const timedOut = isTimeoutAbort(err)
      const host = new URL(url).host
      const { cause } = describeTransportFailure(err)
      log.warn(
        { event: 'upstream.failed', purpose: request.purpose, host, timedOut, cause },
        timedOut
          ? `ThoughtSpot at ${host} did not answer the ${request.purpose} call within ${options.timeoutMs} ms`
          : `ThoughtSpot at ${host} is unreachable (${request.purpose} call): ${cause}`,
      )
      throw transportFailure(err, timedOut)
    }
    stopTimer({ status: String(response.status) })
    release()
    return checkAnswer(url, response, request, log)
  }
}

async function checkAnswer(
  url: string,
  response: Response,
  request: UpstreamRequest,
  log: Logger,
): Promise<Response> {
  const { status } = response
  const contentType = response.headers.get('content-type')
  if (status === 429) {
    await discardBody(response)
    throw upstreamRateLimited(response.headers.get('retry-after'))
  }
  const redirected = request.redirect === 'manual' && status >= 300 && status < 400
  if (!response.ok && !redirected) {
    const facts = await errorFacts(response)
    const hint = request.purpose === 'mint' ? mintHint(url, status) : undefined
    const cause = new UpstreamRefusal(request.purpose, status, facts, hint)
    log.warn(
      {
        event: 'upstream.refused',
        purpose: request.purpose,
        host: new URL(url).host,
        status,
        ...facts,
        ...(hint ? { hint } : {}),
      },
      cause.message,
    )
    const refusal =
      status >= 500 && request.purpose !== 'mint'
        ? 'UPSTREAM_UNAVAILABLE'
        : REFUSAL[request.purpose]
    throw new BffError(
      refusal,
      `ThoughtSpot refused the ${request.purpose} call (status ${status}).`,
      { cause },
    )
  }
  const expect = request.expect ?? 'json'
  const notApi =
    (expect === 'json' && !isJsonType(contentType)) ||
    (expect === 'text' && isHtmlType(contentType))
  if (status !== 204 && notApi) {
    await discardBody(response)
    log.warn(
      { event: 'upstream.not_api', purpose: request.purpose, status, contentType },
      'ThoughtSpot sent a non-API page',
    )
    throw maintenancePage()
  }
  return response
}
