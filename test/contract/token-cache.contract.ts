/**
 * The conformance suite of TokenCache: every implementation (memory, Redis) must pass it. Real
 * time with short TTLs; only lower bounds on time are relied on (waiting longer never fails).
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import {
  MAX_LEDGER_PER_USER,
  type CachedToken,
  type TokenCache,
} from '../../src/state/token-cache.js'

/**
 * Makes a cache in `namespace`; two calls with the same namespace must see the same entries (for
 * memory: the same instance, as one process holds one; for Redis: two clients of one server).
 */
export type TokenCacheFactory = (namespace: string) => Promise<TokenCache> | TokenCache

let serial = 0
/** A token; each one made expires a little later than the one before ("newer"). */
function token(username: string, life = 60_000): CachedToken {
  serial++
  return {
    token: `tok-${serial}-${username}`,
    expiresAt: Date.now() + life + serial,
    username,
    api: 'v2-full',
  }
}

/** Registers the suite under `name`. */
export function tokenCacheContract(name: string, make: TokenCacheFactory): void {
  describe(`TokenCache contract: ${name}`, () => {
    let ns = 0
    const fresh = async (): Promise<TokenCache> => make(`contract-${process.pid}-${++ns}`)

    it('misses an unknown key, and finds what was set', async () => {
      const cache = await fresh()
      assert.equal(await cache.get('nope'), undefined)
      const value = token('alice')
      await cache.set('k', value, 60_000)
      assert.deepEqual(await cache.get('k'), value)
    })

    it('stores nothing for a TTL of 0 or less', async () => {
      const cache = await fresh()
      await cache.set('zero', token('a'), 0)
      await cache.set('negative', token('a'), -5)
      assert.equal(await cache.get('zero'), undefined)
      assert.equal(await cache.get('negative'), undefined)
    })

    it('forgets an entry once its TTL has passed', async () => {
      const cache = await fresh()
      await cache.set('short', token('a'), 80)
      await sleep(250)
      assert.equal(await cache.get('short'), undefined)
    })

    it('replaces the value of a key, and deletes it', async () => {
      const cache = await fresh()
      const first = token('a')
      const second = token('a')
      await cache.set('k', first, 60_000)
      await cache.set('k', second, 60_000)
      assert.equal((await cache.get('k'))?.token, second.token)
      await cache.delete('k')
      assert.equal(await cache.get('k'), undefined)
      await cache.delete('never-set')
    })

    it('takes every live credential of one user, replaced ones included, and only theirs', async () => {
      const cache = await fresh()
      const replaced = token('alice')
      const current = token('alice')
      const object = token('alice')
      const bobs = token('bob')
      await cache.set('alice-full', replaced, 60_000)
      await cache.set('alice-full', current, 60_000)
      await cache.set('alice-object', object, 60_000)
      await cache.set('bob-full', bobs, 60_000)
      const taken = await cache.takeAllFor('alice')
      assert.deepEqual(
        taken.map((item) => item.token).sort(),
        [replaced.token, current.token, object.token].sort(),
      )
      assert.equal(await cache.get('alice-full'), undefined)
      assert.equal(await cache.get('alice-object'), undefined)
      assert.equal((await cache.get('bob-full'))?.token, bobs.token)
      assert.deepEqual(await cache.takeAllFor('alice'), [])
    })

    it('lists the users with live credentials and their ledger, without taking it', async () => {
      const cache = await fresh()
      const older = token('frank')
      const newer = {
        ...token('frank'),
        claims: { roles: ['analyst'] },
        claimNames: ['roles', 'sub'],
      }
      await cache.set('f', older, 60_000)
      await cache.set('f', newer, 60_000)
      await cache.set('g', token('grace', -1000), 60_000)
      assert.deepEqual(await cache.usernames(), ['frank'])
      const ledger = await cache.ledgerOf('frank')
      assert.deepEqual(
        ledger.map((item) => item.token),
        [newer.token, older.token],
        'newest first',
      )
      assert.deepEqual(ledger[0]?.claims, { roles: ['analyst'] })
      assert.deepEqual(ledger[0]?.claimNames, ['roles', 'sub'], 'what the claims were cut to')
      assert.equal((await cache.takeAllFor('frank')).length, 2, 'nothing was taken by looking')
      assert.deepEqual(await cache.usernames(), [])
    })

    it('leaves expired credentials out of what logout takes', async () => {
      const cache = await fresh()
      const dead = token('carol', -1000)
      const live = token('carol')
      await cache.set('k1', dead, 60_000)
      await cache.set('k1', live, 60_000)
      assert.deepEqual(
        (await cache.takeAllFor('carol')).map((item) => item.token),
        [live.token],
      )
    })

    it(`remembers at most ${MAX_LEDGER_PER_USER} credentials per user, the newest`, async () => {
      const cache = await fresh()
      const all: CachedToken[] = []
      for (let i = 0; i < MAX_LEDGER_PER_USER + 5; i++) {
        const value = token('dave')
        all.push(value)
        await cache.set('dave-full', value, 60_000)
      }
      const taken = (await cache.takeAllFor('dave')).map((item) => item.token)
      assert.equal(taken.length, MAX_LEDGER_PER_USER)
      assert.ok(taken.includes(all.at(-1)!.token), 'the newest is kept')
      assert.ok(!taken.includes(all[0]!.token), 'the oldest is forgotten')
    })

    it('keeps namespaces apart and accepts any key and username text', async () => {
      const tokens = await fresh()
      const held = await fresh()
      const name = 'ünïcödé user@例え.jp'
      await tokens.set('same key: with spaces/and:colons', token(name), 60_000)
      assert.equal(await held.get('same key: with spaces/and:colons'), undefined)
      assert.deepEqual(await held.takeAllFor(name), [])
      assert.equal((await tokens.takeAllFor(name)).length, 1)
    })

    it('shares entries between two caches of the same namespace (replicas)', async () => {
      const namespace = `contract-shared-${process.pid}-${++ns}`
      const a = await make(namespace)
      const b = await make(namespace)
      const value = token('erin')
      await a.set('k', value, 60_000)
      assert.equal((await b.get('k'))?.token, value.token)
      await b.delete('k')
      assert.equal(await a.get('k'), undefined)
    })
  })
}
