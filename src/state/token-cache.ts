/**
 * Where minted ThoughtSpot tokens (and, in a second namespace, the ThoughtSpot sessions the BFF
 * holds) wait to be handed out again, and the ledger logout revokes from. An interface, so the
 * in-memory cache (one replica) and the Redis cache (many) are interchangeable; both pass the one
 * conformance suite in test/contract/token-cache.contract.ts.
 */
import type { MintApi } from '../upstream/auth-client.js'

/** A cached credential: a ThoughtSpot token, or a held session's Cookie header. */
export interface CachedToken {
  token: string
  /** Epoch ms when ThoughtSpot stops accepting it. */
  expiresAt: number
  username: string
  api: MintApi
  /**
   * The claims the mapping read when this was minted, so a mapping reload can tell whether the
   * user is still mapped (and revoke when not). Only the claims the mapping reads.
   */
  claims?: Readonly<Record<string, unknown>>
  /**
   * The claim names `claims` answers for (present in it, or absent from the JWT). Without it a
   * name missing from `claims` may have been dropped, and the sweep cannot evaluate the entry.
   */
  claimNames?: readonly string[]
}

/** The cache and ledger of one namespace. */
export interface TokenCache {
  get(key: string): Promise<CachedToken | undefined>
  /**
   * Stores `value` under `key` for `ttlMs` (a TTL ≤ 0 stores nothing) and records it in its
   * user's ledger until `value.expiresAt`, so logout still finds it after it is replaced.
   */
  set(key: string, value: CachedToken, ttlMs: number): Promise<void>
  delete(key: string): Promise<void>
  /**
   * Logout: removes every credential of `username`, cached or replaced but still alive, and
   * returns them (newest first, at most {@link MAX_LEDGER_PER_USER}).
   */
  takeAllFor(username: string): Promise<CachedToken[]>
  /** The live credentials of `username` in the ledger, newest first, without removing them. */
  ledgerOf(username: string): Promise<CachedToken[]>
  /** Every username with a live credential in the ledger (the mapping-reload sweep walks them). */
  usernames(): Promise<string[]>
}

/**
 * Credentials remembered per user for logout. A user mints at most `mintsPerUserPerMinute` (10 by
 * default) tokens a minute that live `validitySeconds` (300): about 50 alive at once, so 100 is
 * never reached with the defaults; past it the oldest are forgotten (they still expire).
 */
export const MAX_LEDGER_PER_USER = 100

/** Entries the memory cache keeps before it drops the least recently stored one. */
export const MEMORY_CACHE_MAX_ENTRIES = 500_000

/** Expired entries dropped per write, so the map cannot fill with dead entries. */
const SWEEP_PER_WRITE = 16

/** In-process cache with a per-user ledger. */
export class MemoryTokenCache implements TokenCache {
  readonly #entries = new Map<string, { value: CachedToken; until: number }>()
  readonly #ledger = new Map<string, Map<string, CachedToken>>()
  readonly #keysByUser = new Map<string, Set<string>>()
  readonly #now: () => number
  readonly #maxEntries: number

  constructor(now: () => number = Date.now, maxEntries = MEMORY_CACHE_MAX_ENTRIES) {
    this.#now = now
    this.#maxEntries = maxEntries
  }

  get(key: string): Promise<CachedToken | undefined> {
    const entry = this.#entries.get(key)
    if (entry && entry.until <= this.#now()) {
      this.#remove(key)
      return Promise.resolve(undefined)
    }
    return Promise.resolve(entry?.value)
  }

  set(key: string, value: CachedToken, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return Promise.resolve()
    this.#sweep()
    // Re-inserting moves the key to the end: Map order is the eviction order.
    this.#entries.delete(key)
    this.#entries.set(key, { value, until: this.#now() + ttlMs })
    let keys = this.#keysByUser.get(value.username)
    if (!keys) this.#keysByUser.set(value.username, (keys = new Set<string>()))
    keys.add(key)
    this.#remember(value)
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#remove(oldest)
    }
    return Promise.resolve()
  }

  delete(key: string): Promise<void> {
    this.#remove(key)
    return Promise.resolve()
  }

  takeAllFor(username: string): Promise<CachedToken[]> {
    const now = this.#now()
    const taken = new Map<string, CachedToken>()
    for (const value of [...(this.#ledger.get(username)?.values() ?? [])].reverse()) {
      if (value.expiresAt > now) taken.set(value.token, value)
    }
    for (const key of this.#keysByUser.get(username) ?? []) {
      const entry = this.#entries.get(key)
      if (entry && !taken.has(entry.value.token)) taken.set(entry.value.token, entry.value)
      this.#entries.delete(key)
    }
    this.#keysByUser.delete(username)
    this.#ledger.delete(username)
    return Promise.resolve([...taken.values()].slice(0, MAX_LEDGER_PER_USER))
  }

  ledgerOf(username: string): Promise<CachedToken[]> {
    const now = this.#now()
    return Promise.resolve(
      [...(this.#ledger.get(username)?.values() ?? [])]
        .reverse()
        .filter((value) => value.expiresAt > now),
    )
  }

  usernames(): Promise<string[]> {
    const now = this.#now()
    return Promise.resolve(
      [...this.#ledger.entries()]
        .filter(([, tokens]) => [...tokens.values()].some((value) => value.expiresAt > now))
        .map(([username]) => username),
    )
  }

  /** Cached entries, for tests and the memory benchmark. */
  get size(): number {
    return this.#entries.size
  }

  #remember(value: CachedToken): void {
    let tokens = this.#ledger.get(value.username)
    if (!tokens) this.#ledger.set(value.username, (tokens = new Map<string, CachedToken>()))
    tokens.delete(value.token)
    tokens.set(value.token, value)
    this.#pruneLedger(value.username)
  }

  #pruneLedger(username: string): void {
    const tokens = this.#ledger.get(username)
    if (!tokens) return
    const now = this.#now()
    for (const [token, value] of tokens) if (value.expiresAt <= now) tokens.delete(token)
    while (tokens.size > MAX_LEDGER_PER_USER) {
      const oldest = tokens.keys().next().value
      if (oldest === undefined) break
      tokens.delete(oldest)
    }
    if (tokens.size === 0) this.#ledger.delete(username)
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#entries.delete(key)
    const { username } = entry.value
    const keys = this.#keysByUser.get(username)
    keys?.delete(key)
    if (keys?.size === 0) this.#keysByUser.delete(username)
    this.#pruneLedger(username)
  }

  /** Bounded work per write: drop a few expired entries (and their users' dead ledger lines). */
  #sweep(): void {
    const now = this.#now()
    let checked = 0
    for (const [key, entry] of this.#entries) {
      if (++checked > SWEEP_PER_WRITE) break
      if (entry.until <= now) this.#remove(key)
    }
  }
}
