/**
 * getToken: cache → one mint per key (in this process, then across replicas) → mint → store →
 * audit. The cache key holds the username, the scope and the mapping digest, so a change of a
 * user's mapping makes their cached token unusable at once.
 */
import { createHash } from 'node:crypto'
import { BffError } from '../errors.js'
import type { Access } from '../mapping/evaluate.js'
import type { Audit } from '../observability/audit.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import type { AppUser } from '../scope.js'
import type { ClaimKeeper } from '../session/kept-claims.js'
import { exclusive } from '../state/exclusive.js'
import type { Lock } from '../state/lock.js'
import type { RateLimit } from '../state/rate-limit.js'
import { SingleFlight } from '../state/single-flight.js'
import type { CachedToken, TokenCache } from '../state/token-cache.js'
import { mintApiFor, type TsAuthClient } from '../upstream/auth-client.js'

/** A token for everything the user may do, or for one object (REPORT_BOOK_VIEW). */
export type TokenScope = { kind: 'full' } | { kind: 'object'; objectId: string }

/** Who wants a token, for what, and where to log. */
export interface TokenRequest {
  user: AppUser
  access: Access
  scope: TokenScope
  /** Skip the cache and mint (rate-limited per user; over the limit it is refused, not cached). */
  fresh?: boolean
  requestId: string
  log: Logger
}

/** Options of {@link createTokenService}. */
export interface TokenServiceOptions {
  client: TsAuthClient
  cache: TokenCache
  locks: Lock
  /** How long a mint may hold its key's lease: longer than a mint can take. */
  leaseMs: number
  metrics: Metrics
  audit: Audit
  mintLimit: RateLimit
  /** Picks the claims each ledger entry keeps, for the mapping-reload sweep. */
  claims: ClaimKeeper
  /** Largest JSON size of those claims; above it the entry keeps none (the sweep then revokes). */
  maxClaimsBytes: number
  authApi: 'v2' | 'v1'
  validitySeconds: number
  minRemainingSeconds: number
  now?: () => number
}

/** The user's ThoughtSpot tokens. */
export interface TokenService {
  getToken(request: TokenRequest): Promise<CachedToken>
  /** Forgets a token ThoughtSpot no longer accepts (the proxy's 401 path). */
  drop(request: Pick<TokenRequest, 'user' | 'access' | 'scope'>): Promise<void>
  /**
   * Revokes upstream every v2 token minted for `username` that is still alive (best effort) and
   * forgets them all; resolves to how many were revoked and how many revocations failed.
   */
  revokeAll(username: string, log: Logger): Promise<{ revoked: number; failed: number }>
}

/** Cache keys remembered per mapping result (full, plus some object scopes). */
const MAX_KEYS_PER_ACCESS = 16

function scopeText(scope: TokenScope): string {
  return scope.kind === 'full' ? 'full' : `object:${scope.objectId}`
}

/** Revocations of one user in flight at once: a logout must not take the whole upstream budget. */
const REVOKE_CONCURRENCY = 4

/** Runs `work` on every item, at most `limit` at once; resolves to how many failed. */
async function countFailures<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<number> {
  let next = 0
  let failed = 0
  const worker = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) {
      await work(item).catch(() => failed++)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return failed
}

/** Builds the service. */
export function createTokenService(options: Readonly<TokenServiceOptions>): TokenService {
  const { client, cache, metrics, mintLimit, audit } = options
  const now = options.now ?? Date.now
  const minRemainingMs = options.minRemainingSeconds * 1000
  const flights = new SingleFlight<CachedToken>()

  // An Access object is the mapping result of one user's claims (memoised per verified JWT), so
  // its keys are remembered on it; the username stays part of the inner key all the same.
  const keysByAccess = new WeakMap<Access, Map<string, string>>()
  const keyOf = (request: Pick<TokenRequest, 'user' | 'access' | 'scope'>): string => {
    const inner = `${request.user.username}\u0000${scopeText(request.scope)}`
    let keys = keysByAccess.get(request.access)
    const known = keys?.get(inner)
    if (known !== undefined) return known
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          options.authApi,
          request.user.username,
          scopeText(request.scope),
          request.access.digest,
        ]),
      )
      .digest('base64url')
    if (!keys) keysByAccess.set(request.access, (keys = new Map<string, string>()))
    // Bounded: object ids are unbounded, and one Access may ask for many.
    if (keys.size < MAX_KEYS_PER_ACCESS) keys.set(inner, key)
    return key
  }

  /** Hand out only a token with enough life left: the SDK alerts on a token that already failed. */
  const usable = (token: CachedToken | undefined): token is CachedToken =>
    token !== undefined && token.expiresAt - now() >= minRemainingMs

  async function mint(request: TokenRequest, key: string): Promise<CachedToken> {
    const { user, access, scope } = request
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
      if (minted.expiresAt - now() < minRemainingMs) {
        throw new BffError(
          'UPSTREAM_AUTH_FAILED',
          'ThoughtSpot minted a token that expires too soon to hand out; check the clocks.',
        )
      }
    } catch (err) {
      metrics.tokenMints.inc({ api, outcome: err instanceof BffError ? 'refused' : 'error' })
      throw err
    }
    metrics.tokenMints.inc({ api, outcome: 'ok' })
    const kept = options.claims.keep(user.claims)
    const value: CachedToken = {
      token: minted.token,
      expiresAt: minted.expiresAt,
      username: user.username,
      api,
      ...(kept.bytes <= options.maxClaimsBytes
        ? { claims: kept.claims, claimNames: kept.names }
        : {}),
    }
    await cache.set(key, value, minted.expiresAt - now() - minRemainingMs)
    audit.minted({
      requestId: request.requestId,
      username: user.username,
      groups: access.groups,
      orgId: access.orgId,
      accessLevel: scope.kind === 'object' ? 'REPORT_BOOK_VIEW' : access.accessLevel,
      objectId,
      api,
      expiresAt: minted.expiresAt,
    })
    return value
  }

  async function getToken(request: TokenRequest): Promise<CachedToken> {
    const key = keyOf(request)
    const cached = await cache.get(key)
    if (!request.fresh && usable(cached)) {
      metrics.tokenCacheHits.inc()
      return cached
    }
    metrics.tokenCacheMisses.inc()
    // A forced mint must not be answered with the very token it wants replaced.
    const stale = request.fresh ? cached?.token : undefined
    return flights.run(
      key,
      () =>
        exclusive({
          lock: options.locks,
          key: `mint:${key}`,
          leaseMs: options.leaseMs,
          peek: async () => {
            const found = await cache.get(key)
            return usable(found) && found.token !== stale ? found : undefined
          },
          work: () => mint(request, key),
        }),
      () => metrics.singleflightJoins.inc(),
    )
  }

  return {
    getToken,
    drop: (request) => cache.delete(keyOf(request)),
    async revokeAll(username, log) {
      const tokens = await cache.takeAllFor(username)
      const revocable = tokens.filter((item) => item.api !== 'v1' && item.expiresAt > now())
      const failed = await countFailures(revocable, REVOKE_CONCURRENCY, (item) =>
        client.revoke(item.token),
      )
      if (failed > 0) {
        log.warn(
          { event: 'token.revoke_failed', username, failed },
          'some tokens could not be revoked; they expire on their own',
        )
      }
      return { revoked: revocable.length - failed, failed }
    },
  }
}
