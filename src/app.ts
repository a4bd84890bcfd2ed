/**
 * The request path on one screen. Read top to bottom: every step of every route, in the order a
 * request meets them — where it is identified, limited, authenticated, mapped, minted and
 * forwarded. docs/ARCHITECTURE.md draws the same path and names each step's file.
 */
import type { Express, Router } from 'express'
import { accessLog } from './http/access-log.js'
import { readBody, refuseDeclaredOversize } from './http/body.js'
import { errorHandler, notFound } from './http/error-handler.js'
import { healthRoutes } from './http/health.js'
import { limitPerIp, limitPerUser } from './http/rate-limit.js'
import { requestId } from './http/request-id.js'
import { exactApp, exactRouter } from './http/routing.js'
import { cors, csrf, noStore, securityHeaders } from './http/security.js'
import { createAuthenticate } from './identity/authenticate.js'
import { createMapUser, requireFullAccess } from './mapping/map-user.js'
import { metricsRoutes } from './observability/metrics.js'
import { checkAllowlist } from './proxy/allowlist.js'
import { attachCredential } from './proxy/credential.js'
import { PROXY_MOUNT, resolveTarget } from './proxy/target.js'
import type { Services } from './services.js'
import { checkSessionClaims } from './session/claims-check.js'
import { logout, showSession, startSession } from './session/routes.js'
import { loadSessionFromCookie, sessionMiddleware } from './session/store.js'
import { issueToken } from './tokens/routes.js'

/** What only some deployments mount. */
export interface AppExtras {
  /** Demo page and demo identity provider, mounted only in demo mode. */
  demo?: Router
}

/** The BFF's express app: every route and step, in request order. */
export function createApp(services: Services, extras: AppExtras = {}): Express {
  const { config, log, metrics, audit, stores, mapping, tokens, heldSessions, now } = services
  const secureCookie = config.mode !== 'demo'
  const { authenticate, authenticateBearer } = createAuthenticate({
    verify: services.verify,
    names: config.identity,
    now,
  })
  const checkCsrf = csrf({
    publicOrigin: config.server.publicOrigin,
    corsOrigins: config.server.cors.origins,
  })
  const perUser = limitPerUser(stores.limits.perUser)
  const perLogin = limitPerUser(stores.limits.logins)
  // Mapped: a session must still hold every claim the mapping reads (else 401: sign in again),
  // checked right before the mapping is evaluated, so that no reload lands between the two.
  const mapped = [checkSessionClaims(services.claims), createMapUser(mapping)]
  const loadSession = sessionMiddleware(stores.sessions, {
    ...config.session,
    secrets: services.secrets.sessionSecrets, // read at each request: they rotate
    secureCookie,
  })
  const sessionFromCookie = loadSessionFromCookie(loadSession, config.session.cookieName)
  const login = startSession({
    audit,
    sessions: stores.sessions,
    claims: services.claims,
    ttlSeconds: config.session.ttlSeconds,
    maxPerUser: config.session.maxPerUser,
    maxClaimsBytes: config.session.maxClaimsBytes,
    secureCookie,
    now,
  })
  const signOut = logout({
    tokens,
    heldSessions,
    audit,
    cookieName: config.session.cookieName,
    secureCookie,
  })
  const token = issueToken(tokens)

  const app = exactApp() // /TS/session or /ts/session/ is not /ts/session: 404
  app.disable('x-powered-by')
  // `true` means the one proxy in front of us, never "everyone": trusting every hop would let a
  // client choose its own IP (per-IP limits) through a forged X-Forwarded-For.
  const { trustProxy } = config.server
  app.set('trust proxy', trustProxy === true ? 1 : trustProxy)
  app.set('query parser', 'simple')

  // Every request
  app.use(requestId(log, now)) //                     request id, scope, scoped logger
  app.use(accessLog(metrics, log, now)) //            access line + metrics when it finishes
  app.use(securityHeaders({ plainHttp: !secureCookie })) // helmet
  app.use(healthRoutes(services.readiness)) //        /healthz, /readyz: no auth, no limits
  if (config.server.metricsPort === null) app.use(metricsRoutes(metrics.registry)) // else its port

  // Every /ts/* request
  app.use(PROXY_MOUNT, cors(config.server.cors.origins)) // CORS for CORS_ORIGINS only
  app.use(PROXY_MOUNT, refuseDeclaredOversize(config.server.bodyLimit)) // Content-Length → 413
  app.use(PROXY_MOUNT, limitPerIp(stores.limits.perIp)) //  per-IP budget                → 429
  app.use(PROXY_MOUNT, sessionFromCookie) //                the cookie's session          → 503
  app.use(['/ts/session', '/ts/auth/token'], noStore) //   identity and tokens: never cached

  // Sessions and the SDK's token, each route with its steps in order: who? (401), per-user
  // budget (429; logins have a budget of their own too), CSRF for unsafe methods (403), mapped
  // (401 for an outdated session, 403 NOT_MAPPED | DENIED), the handler.
  app.post('/ts/session', loadSession, authenticateBearer, perUser, perLogin, mapped, login)
  app.get('/ts/session', authenticate, perUser, mapped, showSession)
  app.delete('/ts/session', loadSession, authenticate, perUser, checkCsrf, signOut)
  app.get('/ts/auth/token', authenticate, perUser, checkCsrf, mapped, token)

  // The proxy: /ts/api/rest/2.0/* and /ts/callosum/v1/*
  const proxy = exactRouter()
  proxy.use(resolveTarget) //                   path checked, API named    → 400 BAD_PATH | 404
  proxy.use(authenticate, perUser, checkCsrf) // who, per-user budget, CSRF → 401 | 429 | 403
  proxy.use(mapped, requireFullAccess) //       mapped, FULL access only   → 401 | 403
  proxy.use(checkAllowlist(services.allowlist)) // method × path × groups → 403 ROUTE_NOT_ALLOWED
  proxy.use(readBody(config.server.bodyLimit)) // buffered for the retry  → 413
  proxy.use(attachCredential(services.credentials)) // token or held session; may mint → 502
  proxy.use(services.forward) //                to ThoughtSpot; 401 → re-mint, retry once
  app.use(PROXY_MOUNT, proxy)

  if (extras.demo) app.use(limitPerIp(stores.limits.perIp), extras.demo)
  app.use(notFound) //                                           → 404 NOT_FOUND
  app.use(errorHandler(log, audit)) //                           any throw → the JSON error body
  return app
}
