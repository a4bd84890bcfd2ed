/**
 * One access-log line and one metric sample per request, when the response is finished. The route
 * label is the mounted pattern (never the raw path or a username), so metric cardinality stays flat.
 */
import type { NextFunction, Request, Response } from 'express'
import type { Metrics } from '../observability/metrics.js'
import { scopeOf } from '../scope.js'

function routeLabel(req: Request): string {
  const path = req.path
  if (path.startsWith('/ts/api/rest/2.0/')) return '/ts/api/rest/2.0/*'
  if (path.startsWith('/ts/callosum/v1/')) return '/ts/callosum/v1/*'
  const known = ['/ts/session', '/ts/auth/token', '/healthz', '/readyz', '/']
  if (known.includes(path)) return path
  if (path.startsWith('/demo/')) return '/demo/*'
  return 'other'
}

export function accessLog(metrics: Metrics, now: () => number = Date.now) {
  return function accessLogMiddleware(req: Request, res: Response, next: NextFunction): void {
    res.on('finish', () => {
      const scope = scopeOf(res)
      const route = routeLabel(req)
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) })
      scope.log.info(
        {
          event: 'http.request',
          method: req.method,
          route,
          path: req.path,
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
