/**
 * Where minted tokens wait to be handed out again. An interface, so the in-memory cache (one
 * replica) and the Redis cache (many) are interchangeable and pass one conformance suite.
 */
import type { MintApi } from './ts-auth-client.js'

export interface CachedToken {
  token: string
  /** Epoch ms when ThoughtSpot stops accepting it. */
  expiresAt: number
  username: string
  api: MintApi
}

export interface TokenCache {
  get(key: string): Promise<CachedToken | undefined>
  /** Stores until `ttlMs` from now; a TTL ≤ 0 stores nothing. */
  set(key: string, value: CachedToken, ttlMs: number): Promise<void>
  delete(key: string): Promise<void>
  /** Removes and returns every token cached for `username` (logout). */
  takeAllFor(username: string): Promise<CachedToken[]>
}

/** In-process cache with a per-user index; expired entries are dropped on read and by a sweep. */
export class MemoryTokenCache implements TokenCache {
  readonly #entries = new Map<string, { value: CachedToken; until: number }>()
  readonly #byUser = new Map<string, Set<string>>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
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
    if (ttlMs > 0) {
      this.#sweep()
      this.#entries.set(key, { value, until: this.#now() + ttlMs })
      let keys = this.#byUser.get(value.username)
      if (!keys) this.#byUser.set(value.username, (keys = new Set()))
      keys.add(key)
    }
    return Promise.resolve()
  }

  delete(key: string): Promise<void> {
    this.#remove(key)
    return Promise.resolve()
  }

  takeAllFor(username: string): Promise<CachedToken[]> {
    const taken: CachedToken[] = []
    for (const key of this.#byUser.get(username) ?? []) {
      const entry = this.#entries.get(key)
      if (entry) taken.push(entry.value)
      this.#entries.delete(key)
    }
    this.#byUser.delete(username)
    return Promise.resolve(taken)
  }

  get size(): number {
    return this.#entries.size
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#entries.delete(key)
    const keys = this.#byUser.get(entry.value.username)
    keys?.delete(key)
    if (keys?.size === 0) this.#byUser.delete(entry.value.username)
  }

  /** Bounded work per write: drop up to a few expired entries so the map cannot grow forever. */
  #sweep(): void {
    const now = this.#now()
    let checked = 0
    for (const [key, entry] of this.#entries) {
      if (++checked > 16) break
      if (entry.until <= now) this.#remove(key)
    }
  }
}
