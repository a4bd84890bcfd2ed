/**
 * Sessions (SPEC §5, §6): express-session over a store behind one seam, so the in-memory store
 * (one replica, demo) and the Redis store (many replicas) are interchangeable. The cookie is
 * HttpOnly, SameSite=Lax, Secure outside demo mode, and lives for an absolute `ttlSeconds`.
 */
import session, { type Store } from 'express-session'
import type { RequestHandler } from 'express'
import { BffError } from '../errors.js'

/** A session store plus what /readyz and shutdown need from it. */
export interface SessionBackend {
  store: Store
  /** Resolves when the store answers; rejects otherwise (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}

type StoredSession = session.SessionData

/**
 * express-session's own MemoryStore never drops a session nobody asks for again, so a long-running
 * single replica would grow without bound. This one sweeps expired sessions on a timer.
 */
export class SweepingMemoryStore extends session.Store {
  readonly #sessions = new Map<string, { data: string; until: number }>()
  readonly #timer: NodeJS.Timeout
  readonly #now: () => number

  constructor(now: () => number = Date.now, sweepMs = 60_000) {
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
    const until = this.#now() + (typeof maxAge === 'number' ? maxAge : 86_400_000)
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

  close(): void {
    clearInterval(this.#timer)
    this.#sessions.clear()
  }

  #sweep(): void {
    const now = this.#now()
    for (const [sid, entry] of this.#sessions) if (entry.until <= now) this.#sessions.delete(sid)
  }
}

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

export interface SessionOptions {
  cookieName: string
  ttlSeconds: number
  secrets: readonly string[]
  secureCookie: boolean
}

export function sessionMiddleware(
  backend: SessionBackend,
  options: Readonly<SessionOptions>,
): RequestHandler {
  const loadSession = session({
    name: options.cookieName,
    secret: [...options.secrets],
    store: backend.store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    // undefined: follow Express's `trust proxy` setting for req.secure.
    proxy: undefined,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secureCookie,
      path: '/',
      maxAge: options.ttlSeconds * 1000,
    },
  })
  // A store that fails is the store's fault, not the client's: fail closed with 503.
  return function sessionLoader(req, res, next) {
    loadSession(req, res, (err?: unknown) => {
      next(
        err === undefined
          ? undefined
          : new BffError('STORE_UNAVAILABLE', 'The session store is unavailable.', { cause: err }),
      )
    })
  }
}
