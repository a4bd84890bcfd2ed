/**
 * The session cookie and its loading: express-session over the {@link SessionBackend} of the
 * deployment (memory or Redis). The cookie is HttpOnly, SameSite=Lax, Secure outside demo mode,
 * and lives for an absolute `ttlSeconds`; the first session secret signs it, all verify it.
 */
import session from 'express-session'
import type { Request, RequestHandler } from 'express'
import { BffError } from '../errors.js'
import type { SessionBackend } from '../state/session-store.js'

/** Options of {@link sessionMiddleware}. */
export interface SessionOptions {
  cookieName: string
  ttlSeconds: number
  /** The secrets in force (first signs, all verify); a function when they may rotate. */
  secrets: readonly string[] | (() => readonly string[])
  secureCookie: boolean
}

/** The cookie's attributes, shared by the session middleware and logout's clearing of it. */
export function cookieAttributes(options: Pick<SessionOptions, 'secureCookie'>) {
  return { httpOnly: true, sameSite: 'lax', secure: options.secureCookie, path: '/' } as const
}

/** The error every session-store failure becomes: the store's fault, not the client's. */
export function storeUnavailable(cause: unknown): BffError {
  return new BffError('STORE_UNAVAILABLE', 'The session store is unavailable.', { cause })
}

/** Middleware: loads the session named by the cookie (fails closed with 503 when the store fails). */
export function sessionMiddleware(
  backend: SessionBackend,
  options: Readonly<SessionOptions>,
): RequestHandler {
  const { secrets } = options
  const current = typeof secrets === 'function' ? secrets : () => secrets
  // express-session keeps the array it is given and reads it on each request, so a rotation
  // updates that array in place: no restart and no rebuilt middleware (a test guards this).
  let inForce = current()
  const live = [...inForce]
  const loadSession = session({
    name: options.cookieName,
    secret: live,
    store: backend.store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    // 'keep', not 'destroy': when the store fails to load a session, express-session leaves
    // `req.session` unset, and 'destroy' would then delete the user's session once the store
    // answers again. Sessions end only by logout, by expiry or by the per-user cap.
    unset: 'keep',
    // undefined: follow Express's `trust proxy` setting for req.secure.
    proxy: undefined,
    cookie: { ...cookieAttributes(options), maxAge: options.ttlSeconds * 1000 },
  })
  return function sessionLoader(req, res, next) {
    if (current() !== inForce) {
      inForce = current()
      live.splice(0, live.length, ...inForce)
    }
    loadSession(req, res, (err?: unknown) => {
      next(err === undefined ? undefined : storeUnavailable(err))
    })
  }
}

/**
 * Loads the session only when the request can use one: it carries the session cookie and no
 * `Authorization` header (a bearer JWT wins, and never falls back to the cookie). Everything
 * else skips express-session's per-request work (a new session object, a random id, a cookie
 * hook). Login and logout load the session themselves (`sessionMiddleware`): login makes one,
 * and logout ends the cookie's session even when a bearer JWT names the user.
 */
export function loadSessionFromCookie(
  loadSession: RequestHandler,
  cookieName: string,
): RequestHandler {
  const marker = `${cookieName}=`
  return function sessionFromCookie(req, res, next) {
    if (req.headers.authorization === undefined && req.headers.cookie?.includes(marker)) {
      loadSession(req, res, next)
      return
    }
    next()
  }
}

/** The user of the request's session, if a session was loaded and has one. */
export function storedUser(req: Request): Partial<session.SessionData>['user'] {
  // `req.session` is typed as always there; it is absent when the step above skipped loading.
  const loaded = req.session as typeof req.session | undefined
  return loaded?.user
}
