/**
 * TokenCache in Redis: every replica sees the same tokens (a token minted through one is reused
 * by all), and a logout on one takes them from all. Values are sealed (`sealed.ts`); key names
 * hold hashes, never a username. One round trip per operation (a GET, or one script).
 *
 *   <p>tok:<ns>:<key>            a sealed CachedToken, expiring with its TTL
 *   <p>tok-keys:<ns>:<user#>     the cache keys of a user (for logout)
 *   <p>ledger:<ns>:<user#>       sealed credentials of a user by expiry (logout revokes them)
 *   <p>ledger-users:<ns>         user hashes with a live ledger (the mapping-reload sweep)
 */
import { MAX_LEDGER_PER_USER, type CachedToken, type TokenCache } from '../token-cache.js'
import type { RedisConnection } from './connection.js'
import { nameHash, type Sealer } from './sealed.js'
import { defineScript, TOKEN_SET, TOKEN_TAKE_ALL } from './scripts.js'

const MINT_APIS = new Set(['v2-full', 'v2-object', 'v2-custom', 'v1'])

function parseToken(text: string | null): CachedToken | undefined {
  if (text === null) return undefined
  try {
    const value = JSON.parse(text) as Partial<CachedToken>
    if (
      typeof value.token !== 'string' ||
      typeof value.expiresAt !== 'number' ||
      typeof value.username !== 'string' ||
      typeof value.api !== 'string' ||
      !MINT_APIS.has(value.api)
    ) {
      return undefined
    }
    return value as CachedToken
  } catch {
    return undefined
  }
}

/** A token cache namespace (`tokens`, `held`) in Redis. */
export class RedisTokenCache implements TokenCache {
  readonly #redis: RedisConnection
  readonly #sealer: Sealer
  readonly #ns: string
  readonly #now: () => number
  readonly #set
  readonly #takeAll

  constructor(
    redis: RedisConnection,
    sealer: Sealer,
    namespace: string,
    now: () => number = Date.now,
  ) {
    this.#redis = redis
    this.#sealer = sealer
    this.#ns = namespace
    this.#now = now
    this.#set = defineScript(redis.client, 'tsbffTokenSet', 4, TOKEN_SET)
    this.#takeAll = defineScript(redis.client, 'tsbffTokenTakeAll', 3, TOKEN_TAKE_ALL)
  }

  #entryKey(key: string): string {
    return `${this.#redis.prefix}tok:${this.#ns}:${key}`
  }

  #userKeys(user: string): { keys: string; ledger: string; users: string } {
    const { prefix } = this.#redis
    return {
      keys: `${prefix}tok-keys:${this.#ns}:${user}`,
      ledger: `${prefix}ledger:${this.#ns}:${user}`,
      users: `${prefix}ledger-users:${this.#ns}`,
    }
  }

  #openAll(members: unknown, ledgerKey: string): CachedToken[] {
    if (!Array.isArray(members)) return []
    return members
      .map((member) =>
        parseToken(typeof member === 'string' ? this.#sealer.open(member, ledgerKey) : null),
      )
      .filter((value): value is CachedToken => value !== undefined)
  }

  get(key: string): Promise<CachedToken | undefined> {
    const entry = this.#entryKey(key)
    return this.#redis.run(async () => {
      const sealed = await this.#redis.client.get(entry)
      return parseToken(sealed === null ? null : this.#sealer.open(sealed, entry))
    })
  }

  set(key: string, value: CachedToken, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) return Promise.resolve()
    const entry = this.#entryKey(key)
    const user = nameHash('user', value.username)
    const names = this.#userKeys(user)
    const text = JSON.stringify(value)
    return this.#redis.run(async () => {
      await this.#set(
        [entry, names.keys, names.ledger, names.users],
        [
          this.#sealer.seal(text, entry),
          Math.ceil(ttlMs),
          key,
          this.#sealer.seal(text, names.ledger),
          value.expiresAt,
          this.#now(),
          MAX_LEDGER_PER_USER,
          user,
        ],
      )
    })
  }

  delete(key: string): Promise<void> {
    const entry = this.#entryKey(key)
    return this.#redis.run(async () => {
      await this.#redis.client.del(entry)
    })
  }

  takeAllFor(username: string): Promise<CachedToken[]> {
    const user = nameHash('user', username)
    const names = this.#userKeys(user)
    return this.#redis.run(async () => {
      const live = await this.#takeAll(
        [names.keys, names.ledger, names.users],
        [this.#entryKey(''), this.#now(), user],
      )
      return this.#openAll(live, names.ledger).reverse().slice(0, MAX_LEDGER_PER_USER)
    })
  }

  ledgerOf(username: string): Promise<CachedToken[]> {
    const names = this.#userKeys(nameHash('user', username))
    return this.#redis.run(async () => {
      const live = await this.#redis.client.zrangebyscore(names.ledger, this.#now(), '+inf')
      return this.#openAll(live, names.ledger).reverse()
    })
  }

  usernames(): Promise<string[]> {
    const { users } = this.#userKeys('')
    return this.#redis.run(async () => {
      const now = this.#now()
      const hashes = await this.#redis.client.zrangebyscore(users, now, '+inf')
      const newest = await Promise.all(
        hashes.map(async (user) => {
          const ledger = this.#userKeys(user).ledger
          const members = await this.#redis.client.zrevrangebyscore(
            ledger,
            '+inf',
            now,
            'LIMIT',
            0,
            1,
          )
          return this.#openAll(members, ledger)[0]?.username
        }),
      )
      return newest.filter((name): name is string => name !== undefined)
    })
  }
}
