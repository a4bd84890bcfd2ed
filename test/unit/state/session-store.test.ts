/**
 * The memory session store holds at most `maxSessions`: past it the least recently used session
 * is dropped (a read counts as a use), so logins cannot grow the process without bound.
 */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import type session from 'express-session'
import { SweepingMemoryStore } from '../../../src/state/session-store.js'

const stores: SweepingMemoryStore[] = []
after(() => stores.forEach((store) => store.close()))

function storeOf(maxSessions: number): SweepingMemoryStore {
  const store = new SweepingMemoryStore(Date.now, { maxSessions })
  stores.push(store)
  return store
}

const data = {
  cookie: { maxAge: 60_000, originalMaxAge: 60_000 },
} as unknown as session.SessionData

function has(store: SweepingMemoryStore, sid: string): Promise<boolean> {
  return new Promise((resolve) => store.get(sid, (_err, found) => resolve(Boolean(found))))
}

function size(store: SweepingMemoryStore): Promise<number> {
  return new Promise((resolve) => store.length((_err, length) => resolve(length ?? -1)))
}

it('drops the least recently stored session past maxSessions', async () => {
  const store = storeOf(3)
  for (const sid of ['a', 'b', 'c', 'd']) store.set(sid, data)
  assert.equal(await size(store), 3)
  assert.deepEqual(await Promise.all(['a', 'b', 'c', 'd'].map((sid) => has(store, sid))), [
    false,
    true,
    true,
    true,
  ])
})

it('counts a read as a use: the session read last is kept', async () => {
  const store = storeOf(2)
  store.set('old', data)
  store.set('new', data)
  assert.equal(await has(store, 'old'), true)
  store.set('newest', data)
  assert.equal(await has(store, 'old'), true, 'read after "new", so "new" was the least recent')
  assert.equal(await has(store, 'new'), false)
  assert.equal(await has(store, 'newest'), true)
})

it('a user whose session was dropped for space is not charged for it by the per-user cap', async () => {
  const store = storeOf(2)
  const until = Date.now() + 60_000
  store.set('u1', data)
  assert.deepEqual(store.track('ann', 'u1', until, 2), [])
  store.set('x', data)
  store.set('y', data) // drops u1
  store.set('u2', data)
  assert.deepEqual(store.track('ann', 'u2', until, 1), [], 'u1 is gone already: nothing to end')
})
