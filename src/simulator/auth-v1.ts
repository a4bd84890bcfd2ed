/**
 * REST v1 session calls: the trusted-auth login token, its exchange for
 * a JSESSIONID cookie, and the session endpoints the embed SDK and the BFF use.
 */
import {
  empty,
  formBody,
  json,
  text,
  SimError,
  V1,
  type Answer,
  type Context,
  type Route,
} from './http.js'
import {
  boolParam,
  enumParam,
  intParam,
  jsonListParam,
  queryParams,
  reqParam,
  type Params,
} from './params.js'
import { authenticate } from './principal.js'
import { CLEARED_COOKIES } from './session-v2.js'
import type { SimSession } from './state.js'
import { checkCredentials, provisionUser } from './trusted-auth.js'

const V1_PUBLIC = `${V1}/tspublic/v1`
/**
 * A v1 login token has no lifetime of its own: it lasts until a newer one is minted for the user,
 * then five more minutes (state.ts). The simulator still bounds it at a day.
 */
const V1_TOKEN_MS = 24 * 60 * 60 * 1000

function authToken(ctx: Context): Answer {
  const form = formBody(ctx)
  const username = reqParam(form, 'username', 255)
  const accessLevel = enumParam(form, 'access_level', ['FULL', 'REPORT_BOOK_VIEW']) ?? 'FULL'
  const objectId = accessLevel === 'REPORT_BOOK_VIEW' ? reqParam(form, 'id') : null
  const requestedOrg = intParam(form, 'orgid', 0)
  const autoCreate = boolParam(form, 'autocreate') ?? false
  const groups = jsonListParam(form, 'groups')
  if (!form.secret_key) throw new SimError(400, "'secret_key' is required")
  // Without orgid an existing user logs into their last org (§3.1); new users land in org 0.
  const orgId = requestedOrg ?? ctx.state.users.get(username)?.orgIds[0] ?? 0
  checkCredentials(ctx.state, orgId, form.secret_key, undefined)
  const user = provisionUser(ctx.state, {
    username,
    orgId,
    autoCreate,
    email: form.email,
    displayName: form.display_name,
    groups: autoCreate ? groups : undefined,
    updateExisting: true,
  })
  const token = ctx.state.issueToken({
    user,
    orgId,
    accessType: accessLevel,
    objectId,
    api: 'v1',
    validityMs: V1_TOKEN_MS,
  })
  return text(token.token, 'text/plain')
}

function sessionCookies(session: SimSession): string[] {
  return [
    `JSESSIONID=${session.id}; Path=/; HttpOnly`,
    `clientId=${session.clientId}; Path=/; Secure; HttpOnly`,
  ]
}

/**
 * Trades a v1 or v2 token for a cookie session. A POST reads the form and then the query string,
 * since the servlet behind it merges both; a GET (the SDK's fallback) reads the query.
 */
function loginToken(ctx: Context): Answer {
  const query = queryParams(ctx.query)
  const params: Params = ctx.req.method === 'POST' ? { ...query, ...formBody(ctx) } : query
  const value = reqParam(params, 'auth_token')
  const noRedirect = boolParam(params, 'no_url_redirection') ?? false
  const token = ctx.state.activeToken(value)
  const username = params.username
  if (!token || (username !== undefined && username !== '' && username !== token.username)) {
    throw new SimError(401, 'The token is invalid or has expired')
  }
  const location = params.redirect_url || '/'
  // It goes into a header: refuse anything a header cannot carry (and header injection).
  if (!/^[\x21-\x7e]+$/.test(location)) throw new SimError(400, "'redirect_url' is not a valid URL")
  const session = ctx.state.createSession(token)
  if (noRedirect) return empty(204, { 'set-cookie': sessionCookies(session) })
  return {
    status: 302,
    headers: {
      location,
      'set-cookie': sessionCookies(session),
      'content-type': 'text/html',
    },
    body: Buffer.from('<html><body>Redirecting...</body></html>'),
  }
}

/** The release the simulator claims to be: recent enough for cookieless auth and token refresh. */
export const RELEASE_VERSION = '26.8.0.cl'

/**
 * Session details, with the `configInfo` fields the Visual Embed SDK reads before it reports
 * `AuthStatus.SUCCESS` (it dereferences `mixpanelConfig` unconditionally). The analytics keys
 * are empty: the simulator sends nothing anywhere. `authToken` is left out on purpose: the
 * simulator never hands tokens back.
 */
function sessionDetails(ctx: Context) {
  const principal = authenticate(ctx)
  const user = ctx.state.findUser(principal.userId)
  if (!user) throw new SimError(401, 'The user no longer exists')
  return {
    userName: user.name,
    userDisplayName: user.displayName ?? user.name,
    userEmail: user.email ?? '',
    userGUID: user.id,
    userGroups: [...user.groups],
    currentOrgId: principal.orgId,
    privileges: [],
    expirationTime: principal.expiresAt,
    releaseVersion: RELEASE_VERSION,
    locale: 'en-US',
    timezone: 'UTC',
    configInfo: {
      mixpanelConfig: { devSdkKey: '', prodSdkKey: '', production: false },
      isPublicUser: false,
      selfClusterId: 'ts-simulator',
      selfClusterName: 'ThoughtSpot simulator',
    },
  }
}

function sessionInfo(ctx: Context): Answer {
  return json(sessionDetails(ctx))
}

/** What the SDK fetches beside session/info once the embed has loaded; it reads `info`. */
function preauthInfo(ctx: Context): Answer {
  return json({ info: sessionDetails(ctx) })
}

function isActive(ctx: Context): Answer {
  authenticate(ctx)
  return empty(200)
}

function logout(ctx: Context): Answer {
  const principal = authenticate(ctx)
  if (!principal.session) return empty(204)
  ctx.state.endSession(principal.session.id)
  return empty(204, { 'set-cookie': CLEARED_COOKIES })
}

/** The v1 session routes, for the server's route table. */
export const authV1Routes: Route[] = [
  { method: 'POST', path: `${V1_PUBLIC}/session/auth/token`, handle: authToken },
  { method: 'POST', path: `${V1_PUBLIC}/session/login/token`, handle: loginToken },
  { method: 'GET', path: `${V1_PUBLIC}/session/login/token`, handle: loginToken },
  { method: 'GET', path: `${V1_PUBLIC}/session/info`, handle: sessionInfo },
  { method: 'POST', path: `${V1_PUBLIC}/session/logout`, handle: logout },
  // The internal (non-tspublic) paths the Visual Embed SDK calls from the embedding page.
  { method: 'GET', path: `${V1}/session/info`, handle: sessionInfo },
  { method: 'GET', path: `${V1}/session/isactive`, handle: isActive },
  { method: 'POST', path: `${V1}/session/login/token`, handle: loginToken },
  { method: 'GET', path: `${V1}/session/login/token`, handle: loginToken },
  { method: 'POST', path: `${V1}/session/logout`, handle: logout },
  { method: 'GET', path: '/prism/preauth/info', handle: preauthInfo },
]
