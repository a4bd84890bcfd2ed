/** The conformance suite of Lock (memory, Redis). Real time; only lower bounds relied on. */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import type { Lock } from '../../src/state/lock.js'

/** Makes a lock; two calls see the same leases (one process, or two clients of one Redis). */
export type LockFactory = () => Promise<Lock> | Lock

/** Registers the suite under `name`. */
export function lockContract(name: string, make: LockFactory): void {
  describe(`Lock contract: ${name}`, () => {
    let serial = 0
    const key = (): string => `contract-lock-${process.pid}-${++serial}`

    it('grants a free key once; the second asker gets null until it is released', async () => {
      const lock = await make()
      const k = key()
      const lease = await lock.acquire(k, 10_000)
      assert.ok(lease)
      assert.equal(await lock.acquire(k, 10_000), null)
      assert.equal(await lock.isHeld(k), true)
      await lease.release()
      assert.equal(await lock.isHeld(k), false)
      const again = await lock.acquire(k, 10_000)
      assert.ok(again)
      assert.notEqual(again.token, lease.token, 'each lease has its own fencing token')
      await again.release()
    })

    it('frees a key whose holder never released it once the lease runs out', async () => {
      const lock = await make()
      const k = key()
      assert.ok(await lock.acquire(k, 80))
      await sleep(250)
      assert.equal(await lock.isHeld(k), false)
      const next = await lock.acquire(k, 10_000)
      assert.ok(next)
      await next.release()
    })

    it('a late release by an expired holder does not free the next holder (fencing)', async () => {
      const lock = await make()
      const k = key()
      const late = await lock.acquire(k, 80)
      assert.ok(late)
      await sleep(250)
      const current = await lock.acquire(k, 10_000)
      assert.ok(current)
      await late.release()
      assert.equal(await lock.isHeld(k), true, 'still held by the current holder')
      assert.equal(await lock.acquire(k, 10_000), null)
      await current.release()
      await current.release()
    })

    it('keeps keys apart, and shares leases between two handles (replicas)', async () => {
      const a = await make()
      const b = await make()
      const k1 = key()
      const k2 = key()
      const lease = await a.acquire(k1, 10_000)
      assert.ok(lease)
      assert.equal(await b.acquire(k1, 10_000), null, 'the other handle sees the lease')
      const other = await b.acquire(k2, 10_000)
      assert.ok(other, 'another key is free')
      await lease.release()
      await other.release()
    })
  })
}
