/**
 * getToken: cache → single-flight → mint → store → audit (STYLE §8 step 12). The cache key holds
 * the username, the scope and the mapping digest, so a change of a user's mapping makes their
 * cached token unusable at once (SPEC §4).
 */
import { createHash } from 'node:crypto'
import { BffError } from '../errors.js'
import type { Access } from '../mapping/evaluate.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { AppUser } from '../scope.js'
import type { RateLimit } from '../http/rate-limit.js'
import type { CachedToken, TokenCache } from './cache.js'
import { SingleFlight } from './single-flight.js'
import { mintApiFor, type TsAuthClient } from './ts-auth-client.js'

export type TokenScope = { kind: 'full' } | { kind: 'object'; objectId: string }

export interface TokenRequest {
  user: AppUser
  access: Access
  scope: TokenScope
  /** Skip the cache and mint (rate-limited per user; over the limit it is refused, not cached). */
  fresh?: boolean
  requestId: string
  log: Logger
}

export interface TokenServiceOptions {
  client: TsAuthClient
  cache: TokenCache
  metrics: Metrics
  mintLimit: RateLimit
  authApi: 'v2' | 'v1'
  validitySeconds: number
  minRemainingSeconds: number
  now?: () => number
}

export interface TokenService {
  getToken(request: TokenRequest): Promise<CachedToken>
  /** Forgets a token ThoughtSpot no longer accepts (the proxy's 401 path). */
  drop(request: Pick<TokenRequest, 'user' | 'access' | 'scope'>): Promise<void>
  /** Logout: revokes the user's cached v2 tokens upstream (best effort) and forgets them all. */
  revokeAll(username: string, log: Logger): Promise<number>
}

function scopeText(scope: TokenScope): string {
  return scope.kind === 'full' ? 'full' : `object:${scope.objectId}`
}

export function createTokenService(options: Readonly<TokenServiceOptions>): TokenService {
  const { client, cache, metrics, mintLimit } = options
  const now = options.now ?? Date.now
  const minRemainingMs = options.minRemainingSeconds * 1000
  const flights = new SingleFlight<CachedToken>()

  const keyOf = (request: Pick<TokenRequest, 'user' | 'access' | 'scope'>): string =>
    createHash('sha256')
      .update(
        JSON.stringify([
          options.authApi,
          request.user.username,
          scopeText(request.scope),
          request.access.digest,
        ]),
      )
      .digest('base64url')

  async function mint(request: TokenRequest, key: string): Promise<CachedToken> {
    const { user, access, scope, log } = request
    await mintLimit.consume(user.username)
    const objectId = scope.kind === 'object' ? scope.objectId : null
    const api = mintApiFor(options.authApi, { access, objectId })
    if (api === 'v2-object' && mintApiFor('v2', { access, objectId: null }) === 'v2-custom') {
      // Row filters are persisted on the user by a custom mint; make sure they are in force
      // before handing out an object token that would otherwise see unfiltered rows.
      await getToken({ ...request, scope: { kind: 'full' }, fresh: false })
    }
    let minted
    try {
      minted = await client.mint({
        username: user.username,
        email: user.email,
        displayName: user.displayName,
        access,
        objectId,
        validitySeconds: options.validitySeconds,
      })
    } catch (err) {
      metrics.tokenMints.inc({ api, outcome: err instanceof BffError ? 'refused' : 'error' })
      throw err
    }
    metrics.tokenMints.inc({ api, outcome: 'ok' })
    const value: CachedToken = {
      token: minted.token,
      expiresAt: minted.expiresAt,
      username: user.username,
      api,
    }
    await cache.set(key, value, minted.expiresAt - now() - minRemainingMs)
    log.info(
      {
        event: 'token.minted',
        audit: true,
        username: user.username,
        groups: access.groups,
        orgId: access.orgId,
        accessLevel: scope.kind === 'object' ? 'REPORT_BOOK_VIEW' : access.accessLevel,
        objectId,
        api,
        expiresAt: new Date(minted.expiresAt).toISOString(),
      },
      'minted a ThoughtSpot token',
    )
    return value
  }

  async function getToken(request: TokenRequest): Promise<CachedToken> {
    const key = keyOf(request)
    if (!request.fresh) {
      const cached = await cache.get(key)
      // Hand out only a token with enough life left: the SDK alerts on a token that already failed.
      if (cached && cached.expiresAt - now() >= minRemainingMs) {
        metrics.tokenCacheHits.inc()
        return cached
      }
    }
    metrics.tokenCacheMisses.inc()
    return flights.run(
      key,
      () => mint(request, key),
      () => metrics.singleflightJoins.inc(),
    )
  }

  return {
    getToken,
    drop: (request) => cache.delete(keyOf(request)),
    async revokeAll(username, log) {
      const tokens = await cache.takeAllFor(username)
      const revocable = tokens.filter((item) => item.api !== 'v1' && item.expiresAt > now())
      const results = await Promise.allSettled(revocable.map((item) => client.revoke(item.token)))
      const failed = results.filter((result) => result.status === 'rejected').length
      if (failed > 0)
        log.warn(
          { event: 'token.revoke_failed', username, failed },
          'some tokens could not be revoked',
        )
      log.info(
        { event: 'token.revoked', audit: true, username, count: revocable.length - failed },
        'revoked tokens',
      )
      return revocable.length - failed
    },
  }
}
