/**
 * REST v2 calls made with a token or session: `auth/token/revoke`, `auth/token/validate` and the
 * `auth/session/*` endpoints.
 */
import { optString, reqString } from './fields.js'
import {
  empty,
  jsonBody,
  json,
  SimError,
  V2,
  type Answer,
  type Context,
  type Route,
} from './http.js'
import { authenticate, type Principal } from './principal.js'
import { orgName, stableGuid, type SimToken, type SimUser } from './state.js'

const DAY_MS = 24 * 60 * 60 * 1000

/** Cookies that end a browser's session, sent on logout. */
export const CLEARED_COOKIES = [
  'JSESSIONID=; Path=/; HttpOnly; Max-Age=0',
  'clientId=; Path=/; Secure; HttpOnly; Max-Age=0',
]

function revoke(ctx: Context): Answer {
  const caller = authenticate(ctx)
  const body = jsonBody(ctx)
  const userIdentifier = optString(body, 'user_identifier')
  const tokenValue = optString(body, 'token')
  if (userIdentifier === undefined && tokenValue === undefined) {
    throw new SimError(400, 'Either user_identifier or token must be provided')
  }
  const token = tokenValue === undefined ? undefined : ownToken(ctx, caller, tokenValue)
  if (userIdentifier !== undefined) {
    const user = ctx.state.findUser(userIdentifier)
    // Only an administrator may revoke another user's tokens; simulated callers never are.
    if (user?.name !== caller.username)
      throw new SimError(403, 'Not allowed to revoke these tokens')
    ctx.state.revokeTokensOf(user.name)
    ctx.state.endSessionsWhere((session) => session.username === user.name)
  }
  if (token) {
    token.revoked = true
    ctx.state.endSessionsWhere((session) => session.sourceToken === token.token)
  }
  return empty(204)
}

function ownToken(ctx: Context, caller: Principal, value: string): SimToken {
  const token = ctx.state.tokens.get(value)
  if (!token) throw new SimError(400, 'The token is not valid')
  if (token.username !== caller.username) {
    throw new SimError(403, 'Not allowed to revoke these tokens')
  }
  return token
}

function validate(ctx: Context): Answer {
  authenticate(ctx)
  const value = reqString(jsonBody(ctx), 'token')
  const token = ctx.state.activeToken(value)
  // ThoughtSpot answers 10002 for malformed and expired tokens alike (§2.5).
  if (!token || token.api === 'v1') throw new SimError(400, 'The token is invalid or has expired')
  return json({
    creation_time_in_millis: token.createdAt,
    expiration_time_in_millis: token.expiresAt,
    scope: { access_type: token.accessType, org_id: token.orgId, metadata_id: token.objectId },
    valid_for_user_id: token.userId,
    token_type: 'BEARER',
  })
}

function callerUser(ctx: Context, principal: Principal): SimUser {
  const user = ctx.state.findUser(principal.userId)
  if (!user) throw new SimError(401, 'The user no longer exists')
  return user
}

/** The `User` object of the caller. */
function sessionUser(ctx: Context): Answer {
  const principal = authenticate(ctx)
  const user = callerUser(ctx, principal)
  return json({
    id: user.id,
    name: user.name,
    display_name: user.displayName ?? user.name,
    visibility: 'SHARABLE',
    email: user.email ?? null,
    current_org: { id: principal.orgId, name: orgName(principal.orgId) },
    orgs: user.orgIds.map((id) => ({ id, name: orgName(id) })),
    privileges: [],
    user_groups: user.groups.map((name) => ({ id: stableGuid('group', name), name })),
    account_type: user.accountType,
    account_status: 'ACTIVE',
    expiration_time_in_millis: principal.expiresAt,
  })
}

/** A new 24-hour token from the current credential; the BFF must never let a browser reach it. */
function sessionToken(ctx: Context): Answer {
  const principal = authenticate(ctx)
  const token = ctx.state.issueToken({
    user: callerUser(ctx, principal),
    orgId: principal.orgId,
    accessType: principal.accessType,
    objectId: principal.objectId,
    api: principal.token?.api ?? (principal.accessType === 'FULL' ? 'full' : 'object'),
    validityMs: DAY_MS,
  })
  return json({
    token: token.token,
    creation_time_in_millis: token.createdAt,
    expiration_time_in_millis: token.expiresAt,
    valid_for_user_id: token.userId,
    valid_for_username: token.username,
  })
}

/** Ends the cookie session; a bearer-only caller has none, and its token stays valid. */
function logout(ctx: Context): Answer {
  const principal = authenticate(ctx)
  if (!principal.session) return empty(204)
  ctx.state.endSession(principal.session.id)
  return empty(204, { 'set-cookie': CLEARED_COOKIES })
}

/** The v2 token and session routes, for the server's route table. */
export const sessionRoutes: Route[] = [
  { method: 'POST', path: `${V2}/auth/token/revoke`, handle: revoke },
  { method: 'POST', path: `${V2}/auth/token/validate`, handle: validate },
  { method: 'GET', path: `${V2}/auth/session/user`, handle: sessionUser },
  { method: 'GET', path: `${V2}/auth/session/token`, handle: sessionToken },
  { method: 'POST', path: `${V2}/auth/session/logout`, handle: logout },
]
