/**
 * The session store behind express-session: in memory for one replica (and demo mode), in Redis
 * for many. Both pass the one conformance suite in test/contract/session-store.contract.ts.
 */
import session, { type Store } from 'express-session'

/** A session store plus what /readyz and shutdown need from it. */
export interface SessionBackend {
  store: Store
  /** Resolves when the store answers; rejects otherwise (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}

type StoredSession = session.SessionData

/** How often the memory store drops expired sessions nobody asked for again. */
const SWEEP_INTERVAL_MS = 60_000

/** A session with no cookie max-age lives this long (express-session always sets one here). */
const DEFAULT_SESSION_LIFE_MS = 86_400_000

/**
 * express-session's own MemoryStore never drops a session nobody asks for again, so a long-running
 * single replica would grow without bound. This one sweeps expired sessions on a timer.
 */
export class SweepingMemoryStore extends session.Store {
  readonly #sessions = new Map<string, { data: string; until: number }>()
  readonly #timer: NodeJS.Timeout
  readonly #now: () => number

  constructor(now: () => number = Date.now, sweepMs = SWEEP_INTERVAL_MS) {
    super()
    this.#now = now
    this.#timer = setInterval(() => this.#sweep(), sweepMs).unref()
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
    callback(null, JSON.parse(entry.data) as StoredSession)
  }

  override set(sid: string, data: StoredSession, callback?: (err?: unknown) => void): void {
    const maxAge = data.cookie.maxAge
    const until = this.#now() + (typeof maxAge === 'number' ? maxAge : DEFAULT_SESSION_LIFE_MS)
    this.#sessions.set(sid, { data: JSON.stringify(data), until })
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

  /** Stops the sweep timer and forgets every session. */
  close(): void {
    clearInterval(this.#timer)
    this.#sessions.clear()
  }

  #sweep(): void {
    const now = this.#now()
    for (const [sid, entry] of this.#sessions) if (entry.until <= now) this.#sessions.delete(sid)
  }
}

/** The memory session backend: always ready, forgets everything at close. */
export function memorySessionBackend(now?: () => number): SessionBackend {
  const store = new SweepingMemoryStore(now)
  return {
    store,
    ping: () => Promise.resolve(),
    close: () => {
      store.close()
      return Promise.resolve()
    },
  }
}
