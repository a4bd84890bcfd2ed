/**
 * ThoughtSpot sessions the BFF holds per user for the REST v1 proxy (and for v2 when
 * TS_AUTH_API=v1): mint a token → `session/login/token` with `no_url_redirection=true` → keep
 * the `JSESSIONID`/`clientId` cookies server-side. The browser never sees them. A session that
 * dies (upstream 401) is dropped and logged in again once.
 */
import { createHash } from 'node:crypto'
import { BffError } from '../errors.js'
import type { Access } from '../mapping/evaluate.js'
import type { Logger } from '../observability/logger.js'
import type { AppUser } from '../scope.js'
import type { UpstreamFetch } from '../thoughtspot/upstream.js'
import type { TokenCache } from '../tokens/cache.js'
import { SingleFlight } from '../tokens/single-flight.js'
import type { TokenService } from '../tokens/token-service.js'

export interface SessionRequest {
  user: AppUser
  access: Access
  requestId: string
  log: Logger
}

export interface TsSessions {
  /** The `Cookie` header value of the user's ThoughtSpot session, logging in when needed. */
  cookieFor(request: SessionRequest): Promise<string>
  /** Forgets a session ThoughtSpot no longer accepts. */
  drop(request: Pick<SessionRequest, 'user' | 'access'>): Promise<void>
  /** Logout: ends every held session of the user upstream (v1 session/logout), best effort. */
  endAll(username: string, log: Logger): Promise<void>
}

export interface TsSessionsOptions {
  host: string
  tokens: TokenService
  fetch: UpstreamFetch
  /** Where session cookies are kept (the token-cache interface: same lifecycle, same seam). */
  cache: TokenCache
  /** How long a held session is trusted before logging in again (ThoughtSpot idles out ≥ 30 min). */
  lifetimeMs?: number
  now?: () => number
}

const LOGIN_PATH = '/callosum/v1/tspublic/v1/session/login/token'
const LOGOUT_PATH = '/callosum/v1/tspublic/v1/session/logout'

/** `name=value` pairs of the Set-Cookie headers ThoughtSpot answered, joined for a Cookie header. */
export function cookieHeaderFrom(setCookies: readonly string[]): string {
  return setCookies
    .map((line) => line.split(';')[0]?.trim() ?? '')
    .filter((pair) => /^[A-Za-z0-9_.-]+=[^\s;,]*$/.test(pair))
    .join('; ')
}

export function createTsSessions(options: Readonly<TsSessionsOptions>): TsSessions {
  const { host, tokens, fetch, cache } = options
  const now = options.now ?? Date.now
  const lifetimeMs = options.lifetimeMs ?? 20 * 60 * 1000
  const logins = new SingleFlight<string>()

  const keyOf = (request: Pick<SessionRequest, 'user' | 'access'>): string =>
    createHash('sha256')
      .update(JSON.stringify(['ts-session', request.user.username, request.access.digest]))
      .digest('base64url')

  async function loginWith(request: SessionRequest, fresh: boolean): Promise<Response> {
    const token = await tokens.getToken({ ...request, scope: { kind: 'full' }, fresh })
    return fetch(`${host}${LOGIN_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'x-requested-by': 'ThoughtSpot',
      },
      body: new URLSearchParams({
        username: request.user.username,
        auth_token: token.token,
        no_url_redirection: 'true',
      }).toString(),
      purpose: 'login',
      expect: 'any',
      redirect: 'manual',
    })
  }

  async function login(request: SessionRequest, key: string): Promise<string> {
    let response: Response
    try {
      response = await loginWith(request, false)
    } catch (err) {
      // A cached token ThoughtSpot no longer takes (revoked, superseded): one fresh mint, once.
      // Never loop: repeated bad token logins can lock a v1 account.
      if (!(err instanceof BffError) || err.code !== 'UPSTREAM_AUTH_FAILED') throw err
      await tokens.drop({ ...request, scope: { kind: 'full' } })
      response = await loginWith(request, true)
    }
    const cookie = cookieHeaderFrom(response.headers.getSetCookie())
    await response.body?.cancel()
    if (!/(^|; )JSESSIONID=/.test(cookie)) {
      throw new BffError(
        'UPSTREAM_AUTH_FAILED',
        'ThoughtSpot answered the session login without a session.',
      )
    }
    await cache.set(
      key,
      { token: cookie, expiresAt: now() + lifetimeMs, username: request.user.username, api: 'v1' },
      lifetimeMs,
    )
    request.log.info(
      { event: 'ts_session.created', username: request.user.username },
      'ThoughtSpot session held for user',
    )
    return cookie
  }

  return {
    async cookieFor(request) {
      const key = keyOf(request)
      const held = await cache.get(key)
      if (held) return held.token
      return logins.run(key, () => login(request, key))
    },
    drop: (request) => cache.delete(keyOf(request)),
    async endAll(username, log) {
      const held = await cache.takeAllFor(username)
      const results = await Promise.allSettled(
        held.map(async (session) => {
          const response = await fetch(`${host}${LOGOUT_PATH}`, {
            method: 'POST',
            headers: {
              cookie: session.token,
              'x-requested-by': 'ThoughtSpot',
              accept: 'application/json',
            },
            purpose: 'logout',
            expect: 'any',
          })
          await response.body?.cancel()
        }),
      )
      const failed = results.filter((result) => result.status === 'rejected').length
      if (held.length > 0)
        log.info(
          { event: 'ts_session.ended', username, count: held.length - failed, failed },
          'ended ThoughtSpot sessions',
        )
    },
  }
}
