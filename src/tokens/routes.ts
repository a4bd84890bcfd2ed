/**
 * GET /ts/auth/token: the user's ThoughtSpot token for the Visual Embed SDK. The body
 * is the bare token as text/plain (what `authEndpoint` and `getAuthToken` expect) unless the
 * request's Accept prefers JSON. `?objectId=` asks for an object-scoped token; only `?fresh=true`
 * forces a mint. `Cache-Control`/`Pragma` request headers do not: browsers send `no-cache` on
 * every request while DevTools' cache is disabled, and every SDK token fetch would then mint.
 */
import type { Request, Response } from 'express'
import { BffError } from '../errors.js'
import { accessOf, scopeOf, userOf } from '../scope.js'
import type { TokenScope, TokenService } from './token-service.js'

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string')
    throw new BffError('BAD_REQUEST', `Give "${name}" once, as a plain value.`)
  return value
}

/** The token scope a query asks for: full, or one object by its GUID. */
export function scopeFromQuery(query: Request['query']): TokenScope {
  const objectId = single(query.objectId, 'objectId')
  if (objectId === undefined) return { kind: 'full' }
  if (!GUID.test(objectId))
    throw new BffError('BAD_REQUEST', 'objectId must be a ThoughtSpot object GUID.')
  return { kind: 'object', objectId: objectId.toLowerCase() }
}

function wantsFresh(req: Request): boolean {
  const fresh = single(req.query.fresh, 'fresh')
  if (fresh !== undefined && fresh !== 'true' && fresh !== 'false') {
    throw new BffError('BAD_REQUEST', 'fresh must be true or false.')
  }
  return fresh === 'true'
}

/** The handler, mounted in `app.ts` after authentication, mapping and the per-user limit. */
export function issueToken(tokens: TokenService) {
  return async function issueTokenHandler(req: Request, res: Response): Promise<void> {
    const scope = scopeFromQuery(req.query)
    const fresh = wantsFresh(req)
    const access = accessOf(res)
    if (scope.kind === 'full' && access.accessLevel !== 'FULL') {
      throw new BffError(
        'DENIED',
        'This user may only have object-scoped tokens: pass ?objectId=<guid>.',
      )
    }
    const user = userOf(res)
    const { requestId, log } = scopeOf(res)
    const token = await tokens.getToken({ user, access, scope, fresh, requestId, log })
    res.vary('Accept')
    if (req.accepts(['text/plain', 'application/json']) === 'application/json') {
      res.json({
        token: token.token,
        username: user.username,
        expiresAt: new Date(token.expiresAt).toISOString(),
      })
      return
    }
    res.type('text/plain').send(token.token)
  }
}
