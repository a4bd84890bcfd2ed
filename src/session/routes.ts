/**
 * POST/GET/DELETE /ts/session (SPEC §5). Login takes only a bearer app JWT, regenerates the
 * session id (no fixation) and stores the verified claims; logout revokes the user's ThoughtSpot
 * tokens upstream and destroys the session.
 */
import { Router, type NextFunction, type Request, type Response } from 'express'
import { BffError } from '../errors.js'
import { userFromBearer, type ClaimNames } from '../identity/authenticate.js'
import type { VerifyJwt } from '../identity/verify-jwt.js'
import type { Access } from '../mapping/evaluate.js'
import type { MappingHolder } from '../mapping/holder.js'
import { mapOrRefuse } from '../mapping/map-user.js'
import { scopeOf, userOf, type AppUser } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import type { TsSessions } from '../proxy/ts-sessions.js'

export interface SessionRouteDeps {
  verify: VerifyJwt
  claimNames: ClaimNames
  mapping: MappingHolder
  tokens: TokenService
  tsSessions: TsSessions
  cookieName: string
  ttlSeconds: number
  secureCookie: boolean
  /** Runs before GET/DELETE: authenticate (+ CSRF for DELETE). Login authenticates itself. */
  authenticate: Array<(req: Request, res: Response, next: NextFunction) => unknown>
  now?: () => number
}

export interface SessionView {
  username: string
  groups: readonly string[]
  orgId: number
  accessLevel: string
  expiresAt: string
}

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
    run((err) =>
      err
        ? reject(
            new BffError('STORE_UNAVAILABLE', 'The session store is unavailable.', { cause: err }),
          )
        : resolve(),
    )
  })
}

export function sessionRoutes(deps: Readonly<SessionRouteDeps>): Router {
  const router = Router()
  const now = deps.now ?? Date.now

  router.post('/ts/session', async function login(req, res) {
    const header = req.headers.authorization
    if (header === undefined) {
      throw new BffError('UNAUTHENTICATED', 'Log in with Authorization: Bearer <app JWT>.', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      })
    }
    if (deps.secureCookie && !req.secure) {
      throw new BffError(
        'BAD_REQUEST',
        'The session cookie is Secure: call the BFF over https (behind a TLS terminator, set server.trustProxy: true).',
      )
    }
    const bearer = await userFromBearer(header, deps.verify, deps.claimNames)
    const access = mapOrRefuse(deps.mapping, bearer)
    await promisify((done) => req.session.regenerate(done))
    const expiresAt = now() + deps.ttlSeconds * 1000
    req.session.user = {
      username: bearer.username,
      email: bearer.email,
      displayName: bearer.displayName,
      claims: bearer.claims,
      expiresAt,
    }
    await promisify((done) => req.session.save(done))
    const scope = scopeOf(res)
    scope.user = { ...bearer, via: 'session', expiresAt }
    scope.log.info(
      { event: 'session.created', audit: true, username: bearer.username },
      'session created',
    )
    res.json(sessionView(scope.user, access))
  })

  router.get('/ts/session', ...deps.authenticate, function currentSession(_req, res) {
    const user = userOf(res)
    const access = mapOrRefuse(deps.mapping, user)
    scopeOf(res).access = access
    res.json(sessionView(user, access))
  })

  router.delete('/ts/session', ...deps.authenticate, async function logout(req, res) {
    const user = userOf(res)
    // Sessions first: their logout needs nothing the token revocation could take away.
    await deps.tsSessions.endAll(user.username, scopeOf(res).log)
    await deps.tokens.revokeAll(user.username, scopeOf(res).log)
    if (req.session.user) {
      await promisify((done) => req.session.destroy(done))
    }
    res.clearCookie(deps.cookieName, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.secureCookie,
    })
    scopeOf(res).log.info(
      { event: 'session.ended', audit: true, username: user.username },
      'session ended',
    )
    res.status(204).end()
  })

  return router
}
