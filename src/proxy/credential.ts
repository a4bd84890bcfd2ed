/**
 * Step "credential" of a proxied call: the user's ThoughtSpot credential, minting or logging in
 * when none is cached. REST v2 calls carry the user's token as a bearer; REST v1 calls (and v2
 * ones when TS_AUTH_API=v1) ride on a ThoughtSpot session the BFF holds for the user.
 */
import type { NextFunction, Request, Response } from 'express'
import { accessOf, scopeOf, targetOf, userOf } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import type { HeldSessions } from '../upstream/held-sessions.js'

/** What the BFF adds to the upstream request for this user: a bearer token or a session cookie. */
export interface Credential {
  headers: Readonly<Record<string, string>>
  /** Values that must never flow back to the browser (the token, the cookie values). */
  secrets: readonly string[]
}

/** Gets and forgets the credential of a proxied call. */
export interface ProxyCredentials {
  /** The credential for the request's user and target; `renew` after ThoughtSpot refused one. */
  get(res: Response, renew: boolean): Promise<Credential>
  /** Forgets the credential ThoughtSpot just refused. */
  drop(res: Response): Promise<void>
}

/** Options of {@link createProxyCredentials}. */
export interface CredentialOptions {
  tokens: TokenService
  heldSessions: HeldSessions
  authApi: 'v2' | 'v1'
}

const FULL = { kind: 'full' } as const

/** Builds the credential source of the proxy. */
export function createProxyCredentials(options: Readonly<CredentialOptions>): ProxyCredentials {
  const { tokens, heldSessions } = options
  const usesHeldSession = (res: Response): boolean =>
    targetOf(res).family === 'v1' || options.authApi === 'v1'

  return {
    async get(res, renew): Promise<Credential> {
      const scope = scopeOf(res)
      const request = {
        user: userOf(res),
        access: accessOf(res),
        requestId: scope.requestId,
        // Read only when a step logs: most calls never do, and it costs a child logger.
        get log() {
          return scope.log
        },
        scope: FULL,
        fresh: renew,
      }
      if (usesHeldSession(res)) {
        const cookie = await heldSessions.cookieFor(request)
        return {
          headers: { cookie, 'x-requested-by': 'ThoughtSpot' },
          secrets: cookie.split('; ').map((pair) => pair.slice(pair.indexOf('=') + 1)),
        }
      }
      const token = await tokens.getToken(request)
      return { headers: { authorization: `Bearer ${token.token}` }, secrets: [token.token] }
    },
    drop(res) {
      const request = { user: userOf(res), access: accessOf(res) }
      return usesHeldSession(res)
        ? heldSessions.drop(request)
        : tokens.drop({ ...request, scope: FULL })
    },
  }
}

/** Middleware: sets `scope.credential` (this is where a proxied call may mint). */
export function attachCredential(credentials: ProxyCredentials) {
  return async function attachCredentialStep(
    _req: Request,
    res: Response,
    next: NextFunction,
  ): Promise<void> {
    scopeOf(res).credential = await credentials.get(res, false)
    next()
  }
}
