/**
 * Everything under /ts/* that is not a session or token route: the scoped proxy (SPEC §5).
 *
 *   path normalised (BAD_PATH) → REST v2 or v1 family (else NOT_FOUND) → who (authenticate) →
 *   CSRF → mapped → FULL access only → allowlisted → per-user budget → body buffered (413) →
 *   credential (bearer token or BFF-held session) → forward
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express'
import { BffError } from '../errors.js'
import { accessOf, scopeOf, userOf } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import { assertAllowed, type Allowlist } from './allowlist.js'
import type { Credential, Forward } from './forward.js'
import { normalizeProxyPath } from './normalize-path.js'
import type { TsSessions } from './ts-sessions.js'

type Middleware = (req: Request, res: Response, next: NextFunction) => unknown

export interface ProxyRouteDeps {
  allowlist: Allowlist
  tokens: TokenService
  sessions: TsSessions
  forward: Forward
  authApi: 'v2' | 'v1'
  bodyLimit: number
  /** authenticate, CSRF, mapping, FULL access, per-user limit — in that order. */
  guards: Middleware[]
}

type Family = 'v2' | 'v1'

interface Target {
  family: Family
  path: string
  query: string
}

const targets = new WeakMap<Request, Target>()

/** Splits the raw URL after `/ts`, normalises the path and names the API family. */
function resolveTarget(req: Request, _res: Response, next: NextFunction): void {
  const raw = req.originalUrl.slice('/ts'.length)
  const queryAt = raw.indexOf('?')
  const path = normalizeProxyPath(queryAt === -1 ? raw : raw.slice(0, queryAt))
  const query = queryAt === -1 ? '' : raw.slice(queryAt)
  const family: Family | null = path.startsWith('/api/rest/2.0/')
    ? 'v2'
    : path.startsWith('/callosum/v1/')
      ? 'v1'
      : null
  if (!family) throw new BffError('NOT_FOUND', 'No such route.')
  targets.set(req, { family, path, query })
  next()
}

function targetOf(req: Request): Target {
  const target = targets.get(req)
  if (!target) throw new Error('proxy target missing: resolveTarget must run first')
  return target
}

export function proxyRoutes(deps: Readonly<ProxyRouteDeps>): Router {
  const router = Router()
  const readBody = express.raw({ type: () => true, limit: deps.bodyLimit })

  const checkAllowlist: Middleware = (req, res, next) => {
    assertAllowed(deps.allowlist, req.method, targetOf(req).path, accessOf(res).groups)
    next()
  }

  const forwardCall: Middleware = async (req, res, next) => {
    const target = targetOf(req)
    const user = userOf(res)
    const access = accessOf(res)
    const { requestId, log } = scopeOf(res)
    // v1 always, and v2 when TS_AUTH_API=v1, ride on a ThoughtSpot session the BFF holds.
    const useSession = target.family === 'v1' || deps.authApi === 'v1'
    const credential = async (renewed: boolean): Promise<Credential> => {
      if (useSession) {
        const cookie = await deps.sessions.cookieFor({ user, access, requestId, log })
        return {
          headers: { cookie, 'x-requested-by': 'ThoughtSpot' },
          secrets: cookie.split('; ').map((pair) => pair.slice(pair.indexOf('=') + 1)),
        }
      }
      const token = await deps.tokens.getToken({
        user,
        access,
        scope: { kind: 'full' },
        fresh: renewed,
        requestId,
        log,
      })
      return { headers: { authorization: `Bearer ${token.token}` }, secrets: [token.token] }
    }
    const body = Buffer.isBuffer(req.body) ? req.body : undefined
    await deps.forward(req, res, next, {
      path: target.path,
      query: target.query,
      body,
      requestId,
      credential,
      dropCredential: () =>
        useSession
          ? deps.sessions.drop({ user, access })
          : deps.tokens.drop({ user, access, scope: { kind: 'full' } }),
    })
  }

  router.use(resolveTarget, ...deps.guards, checkAllowlist, readBody, forwardCall)
  return router
}
