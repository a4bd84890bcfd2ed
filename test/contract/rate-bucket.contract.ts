/** The conformance suite of RateBucket (memory, Redis). Only bounds that hold on a slow machine. */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { burstOf, type RateBucket } from '../../src/state/rate-bucket.js'

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

    it('grants the burst at once, then says how long to wait', async () => {
      const bucket = await make(bucketName(), 50)
      for (let i = 0; i < burstOf(50); i++) assert.equal(await bucket.take(), 0, `take ${i}`)
      const wait = await bucket.take()
      assert.ok(wait > 0 && wait <= 1000, `a wait of ${wait} ms`)
    })

    it('grants again once the wait it named has passed', async () => {
      const bucket = await make(bucketName(), 20)
      while ((await bucket.take()) === 0);
      const wait = await bucket.take()
      await sleep(wait + 20)
      assert.equal(await bucket.take(), 0)
    })

    it('never grants more than the burst plus the rate over the elapsed time', async () => {
      const perSecond = 40
      const started = performance.now()
      const bucket = await make(bucketName(), perSecond)
      let granted = 0
      while (performance.now() - started < 300) {
        const wait = await bucket.take()
        if (wait === 0) granted++
        else await sleep(Math.min(wait, 20))
      }
      const elapsed = (performance.now() - started) / 1000
      assert.ok(granted >= burstOf(perSecond), `at least the burst (${granted})`)
      assert.ok(
        granted <= burstOf(perSecond) + Math.ceil(perSecond * elapsed) + 1,
        `${granted} grants in ${elapsed.toFixed(3)} s`,
      )
    })

    it('shares one bucket between two handles of the same name (replicas)', async () => {
      const shared = bucketName()
      const a = await make(shared, 10)
      const b = await make(shared, 10)
      assert.equal(burstOf(10), 1)
      assert.equal(await a.take(), 0)
      assert.ok((await b.take()) > 0, 'the other handle finds the bucket empty')
    })
  })
}
