/**
 * CORS the way a ThoughtSpot cluster does it for its "CORS whitelisted domains": only listed
 * origins, each reflected with credentials allowed, never a wildcard. The Visual Embed SDK calls
 * the cluster straight from the embedding page (isactive, session/info, preauth/info, the cookie
 * login), so without these headers the browser hides every answer from it.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Answer } from './http.js'

/**
 * Request headers a preflight admits: what the Visual Embed SDK sends (`Authorization`,
 * `X-Requested-By`, `Content-Type`) and what REST clients add (`Accept`, `Accept-Language`,
 * `X-ThoughtSpot-Client`). A header outside the list makes the browser refuse the call, as a
 * cluster would.
 */
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'accept-language',
  'x-requested-by',
  'x-thoughtspot-client',
  'x-request-id',
]
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, OPTIONS'

/** Checks an origin list: every entry is a bare origin such as `http://127.0.0.1:3000`. */
export function checkOrigins(origins: readonly string[]): string[] {
  return origins.map((origin) => {
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (parsed?.origin !== origin) {
      throw new TypeError(`"embedOrigins" must hold bare origins such as http://127.0.0.1:3000`)
    }
    return origin
  })
}

/** The origin of a request when it is one of `allowed`, else undefined. */
export function allowedOrigin(
  headers: IncomingHttpHeaders,
  allowed: ReadonlySet<string>,
): string | undefined {
  const origin = headers.origin
  return origin !== undefined && allowed.has(origin) ? origin : undefined
}

/** Whether the request is a CORS preflight (an OPTIONS that names the method to come). */
export function isPreflight(method: string, headers: IncomingHttpHeaders): boolean {
  return method === 'OPTIONS' && headers['access-control-request-method'] !== undefined
}

/**
 * The preflight's answer: 204 with the allowed methods and headers for a listed origin; 403 with
 * no CORS headers for any other, so the browser blocks the call that would follow.
 */
export function preflightAnswer(origin: string | undefined): Answer {
  if (origin === undefined) return { status: 403, headers: { vary: 'Origin' } }
  return {
    status: 204,
    headers: {
      ...corsHeaders(origin),
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': ALLOWED_HEADERS.join(', '),
      'access-control-max-age': '600',
    },
  }
}

/** The headers that let a listed origin read an answer, credentials included. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
  }
}
