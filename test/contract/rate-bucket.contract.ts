/** The conformance suite of RateBucket (memory, Redis). Only bounds that hold on a slow machine. */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { burstOf, refillOf, type RateBucket } from '../../src/state/rate-bucket.js'

/** Makes a bucket of `perSecond`; two calls with the same name share it (one deployment). */
export type RateBucketFactory = (
  name: string,
  perSecond: number,
) => Promise<RateBucket> | RateBucket

/** Registers the suite under `name`. */
export function rateBucketContract(name: string, make: RateBucketFactory): void {
  describe(`RateBucket contract: ${name}`, () => {
    let serial = 0
    const bucketName = (): string => `contract-bucket-${process.pid}-${++serial}`

    it('a fresh bucket grants its burst at once, then says how long to wait', async () => {
      // 10/s: a token drips in every 100 ms, so a slow machine adds few grants, never fewer.
      const bucket = await make(bucketName(), 10)
      const first = await bucket.take(1000)
      assert.equal(first.granted, burstOf(10))
      assert.equal(first.waitMs, 0)
      let empty = await bucket.take(1)
      while (empty.granted > 0) empty = await bucket.take(1)
      assert.ok(empty.waitMs > 0 && empty.waitMs <= 1000, `a wait of ${empty.waitMs} ms`)
    })

    it('grants several at once, never more than asked', async () => {
      const bucket = await make(bucketName(), 100)
      const some = await bucket.take(3)
      assert.equal(some.granted, 3, 'a burst of 10 holds 3')
      const rest = await bucket.take(1000)
      assert.ok(rest.granted <= burstOf(100), `${rest.granted} of a burst of ${burstOf(100)}`)
    })

    it('grants again once the wait it named has passed', async () => {
      const bucket = await make(bucketName(), 20)
      while ((await bucket.take(1)).granted > 0);
      const { waitMs } = await bucket.take(1)
      await sleep(waitMs + 20)
      assert.equal((await bucket.take(1)).granted, 1)
    })

    it('never grants more than the burst plus the rate over the elapsed time', async () => {
      const perSecond = 40
      const started = performance.now()
      const bucket = await make(bucketName(), perSecond)
      let granted = 0
      while (performance.now() - started < 300) {
        const grant = await bucket.take(5)
        granted += grant.granted
        if (grant.granted === 0) await sleep(Math.min(grant.waitMs, 20))
      }
      const elapsed = (performance.now() - started) / 1000
      assert.ok(granted >= burstOf(perSecond), `at least the burst (${granted})`)
      assert.ok(
        granted <= burstOf(perSecond) + Math.ceil(refillOf(perSecond) * elapsed) + 1,
        `${granted} grants in ${elapsed.toFixed(3)} s`,
      )
    })

    it('never grants more than its rate within one second, the burst included', async () => {
      // Every grant is decided between the first call's start and the last answer, so when that
      // span is under a second the bucket's own second held them all. A slow machine only
      // lengthens the span, and the bound then allows the refill over it.
      const perSecond = 20
      const bucket = await make(bucketName(), perSecond)
      const started = performance.now()
      let granted = 0
      while (performance.now() - started < 950) {
        const grant = await bucket.take(50)
        granted += grant.granted
        if (grant.granted === 0) await sleep(Math.min(grant.waitMs, 10))
      }
      const elapsed = (performance.now() - started) / 1000
      const bound =
        elapsed < 1 ? perSecond : burstOf(perSecond) + Math.ceil(refillOf(perSecond) * elapsed)
      assert.ok(granted <= bound, `${granted} grants in ${elapsed.toFixed(3)} s (bound ${bound})`)
      assert.ok(granted >= perSecond / 2, `the bucket still grants (${granted})`)
    })

    it('refills at its rate less the burst, and never below 1/s', () => {
      assert.equal(refillOf(80), 72)
      assert.equal(refillOf(20), 18)
      assert.equal(refillOf(10), 9)
      assert.equal(refillOf(1), 1)
    })

    it('shares one bucket between two handles of the same name (replicas)', async () => {
      const shared = bucketName()
      const a = await make(shared, 10)
      const b = await make(shared, 10)
      assert.equal(burstOf(10), 1)
      assert.equal((await a.take(1)).granted, 1)
      assert.equal((await b.take(1)).granted, 0, 'the other handle finds the bucket empty')
    })
  })
}
