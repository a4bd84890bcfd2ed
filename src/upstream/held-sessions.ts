/**
 * ThoughtSpot sessions the BFF holds per user for the REST v1 proxy (and for v2 when
 * TS_AUTH_API=v1): mint a token → `session/login/token` with `no_url_redirection=true` → keep
 * the `JSESSIONID`/`clientId` cookies server-side, in their own cache namespace. The browser never
 * sees them. A session that dies (upstream 401) is dropped and logged in again once. One login per
 * user at a time, across replicas, like mints.
 */
import { createHash } from 'node:crypto'
import { BffError } from '../errors.js'
import type { Access } from '../mapping/evaluate.js'
import type { Logger } from '../observability/logger.js'
import type { AppUser } from '../scope.js'
import { exclusive } from '../state/exclusive.js'
import type { Lock } from '../state/lock.js'
import { SingleFlight } from '../state/single-flight.js'
import type { CachedToken, TokenCache } from '../state/token-cache.js'
import type { TokenService } from '../tokens/token-service.js'
import { discardBody, type UpstreamFetch } from './fetch.js'

/**
 * How long a held session is trusted before the BFF logs in again. ThoughtSpot ends idle sessions
 * after 30 minutes or more; 20 stays below that, and a session that died sooner is noticed by its
 * 401 anyway.
 */
export const HELD_SESSION_LIFE_MS = 20 * 60 * 1000

/** Whose session, and where to log. */
export interface SessionRequest {
  user: AppUser
  access: Access
  requestId: string
  log: Logger
}

/** The held sessions. */
export interface HeldSessions {
  /** The `Cookie` header value of the user's ThoughtSpot session, logging in when needed. */
  cookieFor(request: SessionRequest): Promise<string>
  /** Forgets a session ThoughtSpot no longer accepts. */
  drop(request: Pick<SessionRequest, 'user' | 'access'>): Promise<void>
  /** Logout: ends every held session of the user upstream (v1 session/logout), best effort; resolves to how many. */
  endAll(username: string, log: Logger): Promise<number>
}

/** Options of {@link createHeldSessions}. */
export interface HeldSessionsOptions {
  host: string
  tokens: TokenService
  fetch: UpstreamFetch
  /** Where session cookies are kept: the held-sessions namespace, never the token cache. */
  cache: TokenCache
  locks: Lock
  /** How long a login may hold its key's lease. */
  leaseMs: number
  /** How long a held session is trusted; default {@link HELD_SESSION_LIFE_MS}. */
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

/** Builds the held sessions over their cache namespace. */
export function createHeldSessions(options: Readonly<HeldSessionsOptions>): HeldSessions {
  const { host, tokens, fetch, cache } = options
  const now = options.now ?? Date.now
  const lifetimeMs = options.lifetimeMs ?? HELD_SESSION_LIFE_MS
  const logins = new SingleFlight<string>()

  const keyOf = (request: Pick<SessionRequest, 'user' | 'access'>): string =>
    createHash('sha256')
      .update(JSON.stringify(['ts-session', request.user.username, request.access.digest]))
      .digest('base64url')

  async function loginWith(
    request: SessionRequest,
    fresh: boolean,
  ): Promise<{ response: Response; token: CachedToken }> {
    const token = await tokens.getToken({ ...request, scope: { kind: 'full' }, fresh })
    const response = await fetch(`${host}${LOGIN_PATH}`, {
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
    return { response, token }
  }

  async function login(request: SessionRequest, key: string): Promise<string> {
    let attempt: { response: Response; token: CachedToken }
    try {
      attempt = await loginWith(request, false)
    } catch (err) {
      // A cached token ThoughtSpot no longer takes (revoked, superseded): one fresh mint, once.
      // Never loop: repeated bad token logins can lock a v1 account.
      if (!(err instanceof BffError) || err.code !== 'UPSTREAM_AUTH_FAILED') throw err
      await tokens.drop({ ...request, scope: { kind: 'full' } })
      attempt = await loginWith(request, true)
    }
    const { response, token } = attempt
    const cookie = cookieHeaderFrom(response.headers.getSetCookie())
    await discardBody(response)
    if (!/(^|; )JSESSIONID=/.test(cookie)) {
      throw new BffError(
        'UPSTREAM_AUTH_FAILED',
        'ThoughtSpot answered the session login without a session.',
      )
    }
    // The login token's kept claims ride along, so the mapping-reload sweep can judge the session.
    const { claims, claimNames } = token
    await cache.set(
      key,
      {
        token: cookie,
        expiresAt: now() + lifetimeMs,
        username: request.user.username,
        api: 'v1',
        ...(claims && claimNames ? { claims, claimNames } : {}),
      },
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
      return logins.run(key, () =>
        exclusive({
          lock: options.locks,
          key: `login:${key}`,
          leaseMs: options.leaseMs,
          peek: async () => (await cache.get(key))?.token,
          work: () => login(request, key),
        }),
      )
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
          await discardBody(response)
        }),
      )
      const failed = results.filter((result) => result.status === 'rejected').length
      if (failed > 0) {
        log.warn(
          { event: 'ts_session.end_failed', username, failed },
          'some ThoughtSpot sessions could not be ended; they idle out on their own',
        )
      }
      return held.length - failed
    },
  }
}
