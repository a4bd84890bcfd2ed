/** The conformance suite of SessionBackend (memory, Redis), through express-session's Store API. */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import type session from 'express-session'
import type { SessionBackend } from '../../src/state/session-store.js'

/** Makes a backend; two calls see the same sessions (one process, or two clients of one Redis). */
export type SessionBackendFactory = () => Promise<SessionBackend> | SessionBackend

function data(maxAge: number, username = 'alice'): session.SessionData {
  return {
    cookie: { maxAge, originalMaxAge: maxAge, httpOnly: true, path: '/' },
    user: {
      username,
      email: null,
      displayName: null,
      claims: { sub: username, roles: ['analyst'] },
      expiresAt: Date.now() + maxAge,
    },
  } as unknown as session.SessionData
}

function get(backend: SessionBackend, sid: string): Promise<session.SessionData | null> {
  return new Promise((resolve, reject) => {
    backend.store.get(sid, (err, value) => (err ? reject(err as Error) : resolve(value ?? null)))
  })
}
function set(backend: SessionBackend, sid: string, value: session.SessionData): Promise<void> {
  return new Promise((resolve, reject) => {
    backend.store.set(sid, value, (err) => (err ? reject(err as Error) : resolve()))
  })
}
function destroy(backend: SessionBackend, sid: string): Promise<void> {
  return new Promise((resolve, reject) => {
    backend.store.destroy(sid, (err) => (err ? reject(err as Error) : resolve()))
  })
}

/** Registers the suite under `name`. */
export function sessionStoreContract(name: string, make: SessionBackendFactory): void {
  describe(`SessionBackend contract: ${name}`, () => {
    let serial = 0
    const sid = (): string => `contract-sid-${process.pid}-${++serial}`

    it('answers ping, misses an unknown id, and finds what was stored', async () => {
      const backend = await make()
      await backend.ping()
      assert.equal(await get(backend, sid()), null)
      const id = sid()
      const value = data(60_000)
      await set(backend, id, value)
      const found = await get(backend, id)
      assert.deepEqual(found?.user, value.user)
    })

    it('destroys a session', async () => {
      const backend = await make()
      const id = sid()
      await set(backend, id, data(60_000))
      await destroy(backend, id)
      assert.equal(await get(backend, id), null)
      await destroy(backend, sid())
    })

    it('forgets a session once its cookie max-age has passed', async () => {
      const backend = await make()
      const id = sid()
      await set(backend, id, data(80))
      await sleep(250)
      assert.equal(await get(backend, id), null)
    })

    it('keeps at most maxPerUser live sessions per user, destroying the oldest', async () => {
      const backend = await make()
      const user = `capped-${process.pid}-${++serial}`
      const ids = [sid(), sid(), sid(), sid()]
      const evicted: string[] = []
      for (const [index, id] of ids.entries()) {
        await set(backend, id, data(60_000, user))
        evicted.push(...(await backend.track(user, id, Date.now() + 60_000 + index, 2)))
      }
      assert.deepEqual(evicted, [ids[0], ids[1]])
      assert.equal(await get(backend, ids[0]!), null)
      assert.equal(await get(backend, ids[1]!), null)
      assert.equal((await get(backend, ids[2]!))?.user?.username, user)
      assert.equal((await get(backend, ids[3]!))?.user?.username, user)
      // Another user's sessions are not counted against this one.
      const other = sid()
      await set(backend, other, data(60_000, `${user}-other`))
      assert.deepEqual(await backend.track(`${user}-other`, other, Date.now() + 60_000, 2), [])
    })

    it('shares sessions between two handles (replicas)', async () => {
      const a = await make()
      const b = await make()
      const id = sid()
      await set(a, id, data(60_000, 'bob'))
      assert.equal((await get(b, id))?.user?.username, 'bob')
      await destroy(b, id)
      assert.equal(await get(a, id), null)
    })
  })
}
