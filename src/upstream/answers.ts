/**
 * What ThoughtSpot's answers mean, in one place: both doors to ThoughtSpot (the BFF's own calls in
 * `fetch.ts`, the proxy in `proxy/forward.ts`) classify an answer or a transport failure here, so
 * a 429, a maintenance page or a timeout means the same thing wherever it arrives.
 */
import { BffError } from '../errors.js'

const JSON_TYPE = /^application\/(?:[^;\s]+\+)?json\b/i
const HTML_TYPE = /^text\/html\b/i

/** True for `application/json` and `application/*+json`. */
export function isJsonType(contentType: string | null | undefined): boolean {
  return JSON_TYPE.test(contentType ?? '')
}

/** True for `text/html`: ThoughtSpot's maintenance and error pages, never an API answer. */
export function isHtmlType(contentType: string | null | undefined): boolean {
  return HTML_TYPE.test(contentType ?? '')
}

/** `Retry-After` in whole seconds (at least 1); an absent or unreadable value is 1. */
export function retryAfterSeconds(header: string | null | undefined): number {
  const seconds = Number(header)
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1
}

/** ThoughtSpot's 429: every user shares the BFF's IP at ThoughtSpot, so pass the wait on. */
export function upstreamRateLimited(retryAfter: string | null | undefined): BffError {
  return new BffError('RATE_LIMITED', 'ThoughtSpot is rate-limiting this service; retry shortly.', {
    retryAfter: retryAfterSeconds(retryAfter),
  })
}

/** An HTML page (or another non-API body) where an API answer belongs: maintenance, a proxy page. */
export function maintenancePage(): BffError {
  return new BffError(
    'UPSTREAM_MAINTENANCE',
    'ThoughtSpot answered with a maintenance or error page.',
  )
}

/** The connection failed or no answer came in time. */
export function transportFailure(err: unknown, timedOut: boolean): BffError {
  return timedOut
    ? new BffError('UPSTREAM_TIMEOUT', 'ThoughtSpot did not answer in time.', { cause: err })
    : new BffError('UPSTREAM_UNAVAILABLE', 'ThoughtSpot is unreachable.', { cause: err })
}

/** True when `err` is the abort of a fetch by its timeout signal. */
export function isTimeoutAbort(err: unknown): boolean {
  return err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError')
}

/** What to log about a transport failure: the host and the underlying cause, never a body. */
export function describeTransportFailure(err: unknown): { cause: string } {
  // fetch wraps the real reason ("connect ECONNREFUSED 127.0.0.1:1") in `cause`.
  const inner = err instanceof Error && err.cause instanceof Error ? err.cause : err
  if (inner instanceof Error) {
    const code = (inner as NodeJS.ErrnoException).code
    return { cause: code ? `${code}: ${inner.message}` : inner.message }
  }
  return { cause: String(inner) }
}
