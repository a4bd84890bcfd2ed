/**
 * One access-log line and one metric sample per request, when the response is finished. The route
 * label is the route family (never the raw path or a username), so metric cardinality stays flat.
 */
import type { NextFunction, Request, Response } from 'express'
import { accessLogger, type Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { scopeOf } from '../scope.js'

const EXACT_ROUTES: ReadonlySet<string> = new Set([
  '/ts/session',
  '/ts/auth/token',
  '/healthz',
  '/readyz',
  '/metrics',
  '/',
])

const PREFIX_ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['/ts/api/rest/2.0/', '/ts/api/rest/2.0/*'],
  ['/ts/callosum/v1/', '/ts/callosum/v1/*'],
  ['/demo/', '/demo/*'],
]

/** The path the browser asked for, before any router stripped a mount point from `req.url`. */
export function requestPath(req: Request): string {
  const url = req.originalUrl
  const queryAt = url.indexOf('?')
  return queryAt === -1 ? url : url.slice(0, queryAt)
}

/** The route family of a request: a metric label and the `route` field of log lines. */
export function routeFamily(req: Request): string {
  const path = requestPath(req)
  if (EXACT_ROUTES.has(path)) return path
  return PREFIX_ROUTES.find(([prefix]) => path.startsWith(prefix))?.[1] ?? 'other'
}

/** Middleware: on finish, the access line and `tsbff_http_requests_total`. */
export function accessLog(metrics: Metrics, log: Logger, now: () => number = Date.now) {
  const lines = accessLogger(log)
  return function accessLogMiddleware(req: Request, res: Response, next: NextFunction): void {
    res.on('finish', () => {
      const scope = scopeOf(res)
      const route = routeFamily(req)
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) })
      lines.info(
        {
          requestId: scope.requestId,
          event: 'http.request',
          method: req.method,
          route,
          path: requestPath(req),
          status: res.statusCode,
          ms: now() - scope.startedAt,
          user: scope.user?.username,
        },
        'request',
      )
    })
    next()
  }
}
