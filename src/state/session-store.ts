/**
 * The session store behind express-session: in memory for one replica (and demo mode), in Redis
 * for many. Both pass the one conformance suite in test/contract/session-store.contract.ts.
 */
import session, { type Store } from 'express-session'

/** A session store plus what /readyz, shutdown and the per-user cap need from it. */
export interface SessionBackend {
  store: Store
  /**
   * Records that session `sid` belongs to `username` until `expiresAt` (epoch ms). When the user
   * then has more than `maxPerUser` live sessions, the oldest are destroyed; resolves to their ids.
   */
  track(username: string, sid: string, expiresAt: number, maxPerUser: number): Promise<string[]>
  /** Resolves when the store answers; rejects otherwise (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}

type StoredSession = session.SessionData

/** How often the memory store drops expired sessions nobody asked for again. */
const SWEEP_INTERVAL_MS = 60_000

/** A session with no cookie max-age lives this long (express-session always sets one here). */
const DEFAULT_SESSION_LIFE_MS = 86_400_000

/** Sessions the memory store holds by default (`session.memoryMaxSessions`). */
export const MEMORY_MAX_SESSIONS = 100_000

/** Options of {@link SweepingMemoryStore}. */
export interface MemoryStoreOptions {
  /** At most this many sessions; past it the least recently used is dropped. */
  maxSessions?: number
  /** How often expired sessions are swept. */
  sweepMs?: number
}

/**
 * express-session's own MemoryStore never drops a session nobody asks for again, so a long-running
 * single replica would grow without bound. This one sweeps expired sessions on a timer and holds
 * at most `maxSessions`, dropping the least recently used first: logins must not be a way to run
 * the process out of memory. Map order is the recency order (a read or write re-inserts).
 */
export class SweepingMemoryStore extends session.Store {
  readonly #sessions = new Map<string, { data: string; until: number }>()
  /** Each user's sessions, oldest first. */
  readonly #byUser = new Map<string, Array<{ sid: string; until: number }>>()
  readonly #timer: NodeJS.Timeout
  readonly #now: () => number
  readonly #maxSessions: number

  constructor(now: () => number = Date.now, options: MemoryStoreOptions = {}) {
    super()
    this.#now = now
    this.#maxSessions = options.maxSessions ?? MEMORY_MAX_SESSIONS
    this.#timer = setInterval(() => this.#sweep(), options.sweepMs ?? SWEEP_INTERVAL_MS).unref()
  }

  override get(
    sid: string,
    callback: (err: unknown, session?: StoredSession | null) => void,
  ): void {
    const entry = this.#sessions.get(sid)
    if (!entry || entry.until <= this.#now()) {
      this.#sessions.delete(sid)
      callback(null, null)
      return
    }
    // Re-inserting marks it most recently used.
    this.#sessions.delete(sid)
    this.#sessions.set(sid, entry)
    callback(null, JSON.parse(entry.data) as StoredSession)
  }

  override set(sid: string, data: StoredSession, callback?: (err?: unknown) => void): void {
    const maxAge = data.cookie.maxAge
    const until = this.#now() + (typeof maxAge === 'number' ? maxAge : DEFAULT_SESSION_LIFE_MS)
    this.#sessions.delete(sid)
    this.#sessions.set(sid, { data: JSON.stringify(data), until })
    while (this.#sessions.size > this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value
      if (oldest === undefined) break
      this.#sessions.delete(oldest)
    }
    callback?.()
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.#sessions.delete(sid)
    callback?.()
  }

  override touch(sid: string, data: StoredSession, callback?: () => void): void {
    this.set(sid, data, () => callback?.())
  }

  override length(callback: (err: unknown, length?: number) => void): void {
    callback(null, this.#sessions.size)
  }

  /** Destroys the sessions beyond `maxPerUser` of `username`, oldest first; returns their ids. */
  track(username: string, sid: string, expiresAt: number, maxPerUser: number): string[] {
    const now = this.#now()
    const owned = (this.#byUser.get(username) ?? []).filter(
      (entry) => entry.until > now && entry.sid !== sid && this.#sessions.has(entry.sid),
    )
    owned.push({ sid, until: expiresAt })
    const evicted = owned.splice(0, Math.max(0, owned.length - maxPerUser))
    for (const entry of evicted) this.#sessions.delete(entry.sid)
    this.#byUser.set(username, owned)
    return evicted.map((entry) => entry.sid)
  }

  /** Stops the sweep timer and forgets every session. */
  close(): void {
    clearInterval(this.#timer)
    this.#sessions.clear()
    this.#byUser.clear()
  }

  #sweep(): void {
    const now = this.#now()
    for (const [sid, entry] of this.#sessions) if (entry.until <= now) this.#sessions.delete(sid)
    for (const [username, owned] of this.#byUser) {
      const live = owned.filter((entry) => entry.until > now && this.#sessions.has(entry.sid))
      if (live.length === 0) this.#byUser.delete(username)
      else this.#byUser.set(username, live)
    }
  }
}

/** The memory session backend: always ready, holds at most `maxSessions`, forgets all at close. */
export function memorySessionBackend(
  now?: () => number,
  maxSessions = MEMORY_MAX_SESSIONS,
): SessionBackend {
  const store = new SweepingMemoryStore(now, { maxSessions })
  return {
    store,
    track: (username, sid, expiresAt, maxPerUser) =>
      Promise.resolve(store.track(username, sid, expiresAt, maxPerUser)),
    ping: () => Promise.resolve(),
    close: () => {
      store.close()
      return Promise.resolve()
    },
  }
}
