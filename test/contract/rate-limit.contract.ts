/** The conformance suite of RateLimit (memory, Redis). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BffError } from '../../src/errors.js'
import type { LimitSpec, RateLimit } from '../../src/state/rate-limit.js'

/** Makes a limit; two calls with the same spec name count together (one deployment). */
export type RateLimitFactory = (spec: LimitSpec) => Promise<RateLimit> | RateLimit

/** Registers the suite under `name`. */
export function rateLimitContract(name: string, make: RateLimitFactory): void {
  describe(`RateLimit contract: ${name}`, () => {
    let serial = 0
    const spec = (points: number, batch = 1): LimitSpec => ({
      name: `contract-${process.pid}-${++serial}`,
      pointsPerMinute: points,
      what: 'contract calls',
      batch,
    })

    it('allows the points of a minute, then refuses with RATE_LIMITED and a Retry-After', async () => {
      const limit = await make(spec(3))
      for (let i = 0; i < 3; i++) await limit.consume('k')
      await assert.rejects(limit.consume('k'), (err: unknown) => {
        assert.ok(err instanceof BffError)
        assert.equal(err.code, 'RATE_LIMITED')
        assert.ok(err.retryAfter !== undefined && err.retryAfter >= 1 && err.retryAfter <= 60)
        assert.match(err.message, /Too many contract calls/)
        return true
      })
    })

    it('counts each key on its own', async () => {
      const limit = await make(spec(1))
      await limit.consume('a')
      await limit.consume('b')
      await assert.rejects(limit.consume('a'), { code: 'RATE_LIMITED' })
    })

    it('with points taken in batches, never allows more than the limit, and at most a batch less per handle', async () => {
      const shared = spec(20, 4)
      const handles = [await make(shared), await make(shared)]
      let allowed = 0
      const refused = [false, false]
      for (let i = 0; i < 100 && !(refused[0] && refused[1]); i++) {
        const index = i % 2
        try {
          await handles[index]!.consume('k')
          allowed++
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'RATE_LIMITED')
          refused[index] = true
        }
      }
      assert.ok(allowed <= 20, `${allowed} allowed of 20`)
      assert.ok(allowed >= 20 - 2 * (4 - 1), `${allowed} allowed: at most a batch less per handle`)
    })

    it('counts two handles of one limit together (replicas)', async () => {
      const shared = spec(2)
      const a = await make(shared)
      const b = await make(shared)
      await a.consume('k')
      await b.consume('k')
      await assert.rejects(a.consume('k'), { code: 'RATE_LIMITED' })
      await assert.rejects(b.consume('k'), { code: 'RATE_LIMITED' })
    })
  })
}
