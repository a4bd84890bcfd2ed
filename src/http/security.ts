/**
 * Browser-facing security: helmet's headers, CORS for the configured origins only (credentials,
 * no wildcard), the CSRF rule for cookie-authenticated unsafe requests, and
 * `Cache-Control: no-store` for responses that carry tokens or identity.
 */
import type { NextFunction, Request, Response } from 'express'
import helmet from 'helmet'
import { BffError } from '../errors.js'
import { scopeOf } from '../scope.js'

/** helmet's headers on every response; plain http (demo mode) without HSTS and upgrades. */
export const securityHeaders = (options: { plainHttp: boolean }): ReturnType<typeof helmet> =>
  helmet({
    // Demo mode serves plain http on loopback: HSTS and upgrade-insecure-requests would make some
    // browsers (Safari on localhost) fetch the page's own script and styles over https.
    ...(options.plainHttp
      ? {
          strictTransportSecurity: false,
          contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
        }
      : {}),
    // The BFF serves JSON, plain tokens and the small demo page; nothing needs cross-origin framing.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  })

/**
 * Request headers a preflight admits: the BFF's own (`X-CSRF`, `X-Request-Id`), what callers send
 * with them, and what ThoughtSpot's own clients add on every call — `@thoughtspot/rest-api-sdk`
 * sends `X-ThoughtSpot-Client`, v1 callers `X-Requested-By`. Leaving one out fails every
 * cross-origin call of that client with an opaque "Failed to fetch".
 */
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'Accept-Language',
  'Cache-Control',
  'Pragma',
  'X-CSRF',
  'X-Request-Id',
  'X-ThoughtSpot-Client',
  'X-Requested-By',
].join(', ')
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE'

/** CORS for `origins` only; a preflight from anywhere else gets no CORS headers (the browser blocks). */
export function cors(origins: readonly string[]) {
  const allowed = new Set(origins)
  return function corsMiddleware(req: Request, res: Response, next: NextFunction): void {
    const origin = req.headers.origin
    res.vary('Origin')
    if (origin !== undefined && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin)
      res.setHeader('Access-Control-Allow-Credentials', 'true')
      res.setHeader('Access-Control-Expose-Headers', 'x-request-id, retry-after')
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      if (origin !== undefined && allowed.has(origin)) {
        res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS)
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS)
        res.setHeader('Access-Control-Max-Age', '600')
      }
      res.status(204).end()
      return
    }
    next()
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Cookie-authenticated unsafe requests need `X-CSRF: 1` and, when they carry an Origin, an
 * allowed one (`Origin: null` never is). Bearer-authenticated requests are exempt: a browser
 * cannot attach someone's bearer token on its own.
 */
export function csrf(options: { publicOrigin: string | null; corsOrigins: readonly string[] }) {
  const allowed = new Set(options.corsOrigins)
  return function csrfMiddleware(req: Request, res: Response, next: NextFunction): void {
    const user = scopeOf(res).user
    if (!UNSAFE_METHODS.has(req.method) || user?.via !== 'session') {
      next()
      return
    }
    if (req.headers['x-csrf'] !== '1') {
      throw new BffError('CSRF', 'Cookie-authenticated changes need the header X-CSRF: 1.')
    }
    const origin = req.headers.origin
    if (origin !== undefined) {
      const own = options.publicOrigin ?? `${req.protocol}://${req.get('host') ?? ''}`
      if (origin !== own && !allowed.has(origin)) {
        throw new BffError('CSRF', 'The request comes from an origin that is not allowed.')
      }
    }
    next()
  }
}

/** Middleware: `Cache-Control: no-store` for responses that carry tokens or identity. */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Pragma', 'no-cache')
  next()
}
