/**
 * The session store in Redis: an express-session Store whose values are sealed (`sealed.ts`),
 * with a TTL equal to the session's life, plus a per-user index that caps live sessions per user.
 * A session made on one replica works on every other; a logout on one is seen by all.
 *
 * It is the BFF's own small Store rather than connect-redis: connect-redis 9 only takes the
 * `redis` client, while the BFF's connection is ioredis (command deadlines, fail-fast offline
 * behaviour); and sealing each value under its key, and the per-user cap, need access to the keys.
 *
 *   <p>sess:<sid>              a sealed session, expiring with the session
 *   <p>sess-of:<user#>         the user's session ids by expiry (the cap)
 */
import session from 'express-session'
import type { SessionBackend } from '../session-store.js'
import type { RedisConnection } from './connection.js'
import { nameHash, type Sealer } from './sealed.js'
import { defineScript, SESSION_TRACK, type Script } from './scripts.js'

type StoredSession = session.SessionData

/** A session with no cookie max-age lives this long (express-session always sets one here). */
const DEFAULT_SESSION_LIFE_MS = 86_400_000

/** express-session's Store over the replica's Redis connection. */
export class RedisSessionStore extends session.Store {
  readonly #redis: RedisConnection
  readonly #sealer: Sealer
  readonly #track: Script

  constructor(redis: RedisConnection, sealer: Sealer) {
    super()
    this.#redis = redis
    this.#sealer = sealer
    this.#track = defineScript(redis.client, 'tsbffSessionTrack', 1, SESSION_TRACK)
  }

  #key(sid: string): string {
    return `${this.#redis.prefix}sess:${sid}`
  }

  override get(
    sid: string,
    callback: (err: unknown, session?: StoredSession | null) => void,
  ): void {
    const key = this.#key(sid)
    this.#redis
      .run(() => this.#redis.client.get(key))
      .then((sealed) => {
        const text = sealed === null ? null : this.#sealer.open(sealed, key)
        // A value no current secret opens (rotated out) is no session at all.
        callback(null, text === null ? null : (JSON.parse(text) as StoredSession))
      }, callback)
  }

  override set(sid: string, data: StoredSession, callback?: (err?: unknown) => void): void {
    const key = this.#key(sid)
    const maxAge = data.cookie.maxAge
    const ttl = typeof maxAge === 'number' ? maxAge : DEFAULT_SESSION_LIFE_MS
    this.#redis
      .run(async () => {
        if (ttl <= 0) await this.#redis.client.del(key)
        else
          await this.#redis.client.set(key, this.#sealer.seal(JSON.stringify(data), key), 'PX', ttl)
      })
      .then(
        () => callback?.(),
        (err: unknown) => callback?.(err),
      )
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.#redis
      .run(() => this.#redis.client.del(this.#key(sid)))
      .then(
        () => callback?.(),
        (err: unknown) => callback?.(err),
      )
  }

  override touch(sid: string, data: StoredSession, callback?: () => void): void {
    this.set(sid, data, () => callback?.())
  }

  /** Records `sid` for `username`; destroys the oldest beyond `maxPerUser`; returns their ids. */
  track(username: string, sid: string, expiresAt: number, maxPerUser: number): Promise<string[]> {
    const index = `${this.#redis.prefix}sess-of:${nameHash('user', username)}`
    return this.#redis.run(async () => {
      const evicted = await this.#track(
        [index],
        [sid, expiresAt, Date.now(), maxPerUser, this.#key('')],
      )
      return Array.isArray(evicted)
        ? evicted.filter((item): item is string => typeof item === 'string')
        : []
    })
  }
}

/** The Redis session backend (the connection is closed by the store bundle). */
export function redisSessionBackend(redis: RedisConnection, sealer: Sealer): SessionBackend {
  const store = new RedisSessionStore(redis, sealer)
  return {
    store,
    track: (username, sid, expiresAt, maxPerUser) =>
      store.track(username, sid, expiresAt, maxPerUser),
    ping: () => redis.ping(),
    close: () => Promise.resolve(),
  }
}
