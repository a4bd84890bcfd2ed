/**
 * Who is calling: a bearer token or a JSESSIONID cookie session, like ThoughtSpot accepts on its
 * REST endpoints. A stale credential is a 401 (code 10097), which is what makes a BFF re-mint.
 */
import { SimError, type Context } from './http.js'
import type { AccessType, SimSession, SimToken } from './state.js'

/** The authenticated caller and what its credential allows. */
export interface Principal {
  username: string
  userId: string
  orgId: number
  accessType: AccessType
  objectId: string | null
  expiresAt: number
  token?: SimToken
  session?: SimSession
}

const UNAUTHORIZED = 'Authentication required: the token or session is missing, invalid or expired'

/**
 * The caller, from `Authorization: Bearer` first, else the session cookie. A bearer header that
 * does not hold a live token is refused even when a good cookie comes with it: no silent fallback.
 */
export function authenticate(ctx: Context): Principal {
  const header = ctx.req.headers.authorization
  if (header !== undefined) return fromBearer(ctx, header)
  const sessionId = ctx.cookies.get('JSESSIONID')
  const session = sessionId === undefined ? undefined : ctx.state.touchSession(sessionId)
  if (!session) throw new SimError(401, UNAUTHORIZED)
  return {
    username: session.username,
    userId: session.userId,
    orgId: session.orgId,
    accessType: session.accessType,
    objectId: session.objectId,
    expiresAt: session.expiresAt,
    session,
  }
}

function fromBearer(ctx: Context, header: string): Principal {
  const match = /^Bearer +(\S+)\s*$/i.exec(header)
  const token = match?.[1] === undefined ? undefined : ctx.state.activeToken(match[1])
  // v1 login tokens are opaque one-purpose tokens: they only buy a cookie session.
  if (!token || token.api === 'v1') throw new SimError(401, UNAUTHORIZED)
  return {
    username: token.username,
    userId: token.userId,
    orgId: token.orgId,
    accessType: token.accessType,
    objectId: token.objectId,
    expiresAt: token.expiresAt,
    token,
  }
}

/** An object-scoped (REPORT_BOOK_VIEW) caller may only name its own object. */
export function checkObjectAccess(principal: Principal, identifier: string | undefined): void {
  if (principal.accessType !== 'REPORT_BOOK_VIEW' || identifier === undefined) return
  if (identifier !== principal.objectId) {
    throw new SimError(403, 'This token is scoped to a different object')
  }
}
