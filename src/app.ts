/**
 * The request path on one screen (STYLE §6.2, §8). Read top to bottom: where a request is
 * identified, authenticated, mapped, minted and forwarded.
 */
import express, { type Express, type Router } from 'express'
import { errorHandler, notFound } from './http/error-handler.js'
import { accessLog } from './http/access-log.js'
import { healthRoutes } from './http/health.js'
import { limitPerIp, limitPerUser } from './http/rate-limit.js'
import { requestId } from './http/request-id.js'
import { cors, csrf, noStore, securityHeaders } from './http/security.js'
import { createAuthenticate } from './identity/authenticate.js'
import { createMapUser, requireFullAccess } from './mapping/map-user.js'
import { proxyRoutes } from './proxy/routes.js'
import type { Services } from './services.js'
import { sessionMiddleware } from './session/store.js'
import { sessionRoutes } from './session/routes.js'
import { tokenRoutes } from './tokens/routes.js'

export interface AppExtras {
  /** Demo page and demo identity provider, mounted only in demo mode. */
  demo?: Router
}

export function createApp(services: Services, extras: AppExtras = {}): Express {
  const { config, log, metrics, mapping, sessions, verify, tokens, tsSessions, limits, now } =
    services
  const secureCookie = config.mode !== 'demo'
  const claimNames = config.identity

  const authenticate = createAuthenticate(verify, claimNames, now)
  const checkCsrf = csrf({
    publicOrigin: config.server.publicOrigin,
    corsOrigins: config.server.cors.origins,
  })
  const mapUser = createMapUser(mapping)
  const perUser = limitPerUser(limits.perUser)

  const app = express()
  app.disable('x-powered-by')
  // `true` means the one proxy in front of us, never "everyone": trusting every hop would let a
  // client choose its own IP (per-IP limits) through a forged X-Forwarded-For.
  const { trustProxy } = config.server
  app.set('trust proxy', trustProxy === true ? 1 : trustProxy)
  app.set('query parser', 'simple')

  app.use(requestId(log, now)) //                        1 request id + scoped logger
  app.use(accessLog(metrics, now)) //                    access line + metrics on finish
  app.use(securityHeaders({ plainHttp: config.mode === 'demo' })) // 2 helmet
  app.use(healthRoutes(sessions)) //                     /healthz, /readyz (no auth, no limits)
  app.use('/ts', cors(config.server.cors.origins)) //    2 CORS for CORS_ORIGINS only
  app.use('/ts', limitPerIp(limits.perIp)) //            3 per-IP budget          → 429
  app.use(
    '/ts',
    sessionMiddleware(sessions, {
      ...config.session,
      secrets: config.secrets.sessionSecrets,
      secureCookie,
    }),
  ) //                                                    4 session (memory store; Redis later)

  app.use('/ts/session', noStore)
  app.use(
    sessionRoutes({
      verify,
      claimNames,
      mapping,
      tokens,
      tsSessions,
      cookieName: config.session.cookieName,
      ttlSeconds: config.session.ttlSeconds,
      secureCookie,
      //              6 who?        7 CSRF    10 per-user budget
      authenticate: [authenticate, checkCsrf, perUser],
      now,
    }),
  )
  //                                    6 who?       7 CSRF     8 mapped  10 budget  12 token
  app.use(tokenRoutes(tokens, [noStore, authenticate, checkCsrf, mapUser, perUser]))

  app.use(
    '/ts',
    proxyRoutes({
      allowlist: services.allowlist,
      tokens,
      sessions: tsSessions,
      forward: services.forward,
      authApi: config.thoughtspot.authApi,
      bodyLimit: config.server.bodyLimit,
      //       6 who?        7 CSRF     8 mapped  FULL only          10 budget
      guards: [authenticate, checkCsrf, mapUser, requireFullAccess, perUser],
    }),
  ) //                                                   5,9,11,13 path, allowlist, body, forward

  if (extras.demo) app.use(limitPerIp(limits.perIp), extras.demo)
  app.use(notFound)
  app.use(errorHandler(log)) //                          any throw → SPEC §7 JSON
  return app
}
