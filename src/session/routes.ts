/**
 * The three session handlers, mounted in `app.ts` behind their steps. Login takes only a bearer
 * app JWT, regenerates the session id (no fixation) and stores only what later requests need
 * (bounded), ending the user's oldest session past `session.maxPerUser`; logout revokes the
 * user's ThoughtSpot credentials upstream and destroys the session.
 */
import type { Request, Response } from 'express'
import { BffError } from '../errors.js'
import type { Access } from '../mapping/evaluate.js'
import type { Audit } from '../observability/audit.js'
import { accessOf, scopeOf, userOf, type AppUser } from '../scope.js'
import type { SessionBackend } from '../state/session-store.js'
import type { TokenService } from '../tokens/token-service.js'
import type { HeldSessions } from '../upstream/held-sessions.js'
import type { ClaimKeeper } from './kept-claims.js'
import { cookieAttributes, storedUser, storeUnavailable } from './store.js'

/** The body of `GET /ts/session` (and of a successful login). */
export interface SessionView {
  username: string
  groups: readonly string[]
  orgId: number
  accessLevel: string
  expiresAt: string
}

/** What the user is mapped to, as the session routes show it. */
export function sessionView(user: AppUser, access: Access): SessionView {
  return {
    username: user.username,
    groups: access.groups,
    orgId: access.orgId,
    accessLevel: access.accessLevel,
    expiresAt: new Date(user.expiresAt).toISOString(),
  }
}

function promisify(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    run((err) => (err ? reject(storeUnavailable(err)) : resolve()))
  })
}

/** What login needs. */
export interface LoginDeps {
  audit: Audit
  /** Where the user's live sessions are counted (`track`). */
  sessions: SessionBackend
  claims: ClaimKeeper
  ttlSeconds: number
  /** Live sessions per user; the oldest beyond it are ended. */
  maxPerUser: number
  /** Largest JSON size of the kept claims; a login above it is refused. */
  maxClaimsBytes: number
  secureCookie: boolean
  now: () => number
}

/** Ends the session just stored when it cannot be counted: an uncounted one would escape the cap. */
async function untracked(req: Request, cause: unknown): Promise<never> {
  await promisify((done) => req.session.destroy(done)).catch(() => undefined)
  throw storeUnavailable(cause)
}

/**
 * `POST /ts/session`, after `authenticateBearer` and `mapUser`: a fresh session id for the user
 * the bearer JWT names, and the Secure, HttpOnly cookie that carries it.
 */
export function startSession(deps: Readonly<LoginDeps>) {
  return async function startSessionHandler(req: Request, res: Response): Promise<void> {
    if (deps.secureCookie && !req.secure) {
      throw new BffError(
        'BAD_REQUEST',
        'The session cookie is Secure: call the BFF over https (behind a TLS terminator, set server.trustProxy: true).',
      )
    }
    const scope = scopeOf(res)
    const bearer = userOf(res)
    const kept = deps.claims.keep(bearer.claims)
    if (kept.bytes > deps.maxClaimsBytes) {
      scope.log.warn(
        {
          event: 'session.claims_too_large',
          username: bearer.username,
          bytes: kept.bytes,
          limit: deps.maxClaimsBytes,
        },
        'login refused: the claims the mapping reads are larger than a session keeps',
      )
      throw new BffError(
        'BAD_REQUEST',
        `The claims the mapping reads take ${kept.bytes} bytes, more than a session keeps (${deps.maxClaimsBytes}); send the app JWT as a bearer on each call instead.`,
      )
    }
    const expiresAt = deps.now() + deps.ttlSeconds * 1000
    let evicted: string[]
    try {
      await promisify((done) => req.session.regenerate(done))
      req.session.user = {
        username: bearer.username,
        email: bearer.email,
        displayName: bearer.displayName,
        claims: kept.claims,
        claimNames: kept.names,
        expiresAt,
      }
      await promisify((done) => req.session.save(done))
      evicted = await deps.sessions
        .track(bearer.username, req.session.id, expiresAt, deps.maxPerUser)
        .catch((err: unknown) => untracked(req, err))
    } catch (err) {
      // No session was kept: express-session must not send a cookie naming one.
      delete (req as { session?: unknown }).session
      throw err
    }
    if (evicted.length > 0) {
      scope.log.info(
        { event: 'session.evicted', username: bearer.username, count: evicted.length },
        'ended the user’s oldest sessions (session.maxPerUser)',
      )
    }
    scope.user = { ...bearer, claims: kept.claims, via: 'session', expiresAt }
    deps.audit.sessionCreated({ requestId: scope.requestId, username: bearer.username, expiresAt })
    res.json(sessionView(scope.user, accessOf(res)))
  }
}

/** `GET /ts/session`: who the current user is in ThoughtSpot. */
export function showSession(_req: Request, res: Response): void {
  res.json(sessionView(userOf(res), accessOf(res)))
}

/** What logout needs. */
export interface LogoutDeps {
  tokens: TokenService
  heldSessions: HeldSessions
  audit: Audit
  cookieName: string
  secureCookie: boolean
}

/** `DELETE /ts/session`: revoke upstream, forget, destroy; 204. */
export function logout(deps: Readonly<LogoutDeps>) {
  return async function logoutHandler(req: Request, res: Response): Promise<void> {
    const user = userOf(res)
    const { requestId, log } = scopeOf(res)
    // Sessions first: their logout needs nothing the token revocation could take away.
    const sessionsEnded = await deps.heldSessions.endAll(user.username, log)
    const { revoked, failed } = await deps.tokens.revokeAll(user.username, log)
    if (storedUser(req)) await promisify((done) => req.session.destroy(done))
    res.clearCookie(deps.cookieName, cookieAttributes(deps))
    deps.audit.revoked({
      requestId,
      username: user.username,
      reason: 'logout',
      tokensRevoked: revoked,
      revokeFailures: failed,
      sessionsEnded,
    })
    deps.audit.sessionEnded({ requestId, username: user.username })
    res.status(204).end()
  }
}
