/**
 * The BFF's own upstream budget: a concurrency cap and a token-bucket rate, waiters
 * served FIFO for at most queueTimeoutMs, then 429 RATE_LIMITED. Real timers; only lower bounds
 * on time are asserted, so a slow machine cannot fail them.
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { BffError } from '../../../src/errors.js'
import { memoryRateBucket } from '../../../src/state/rate-bucket.js'
import { createUpstreamBudget } from '../../../src/upstream/budget.js'

type Release = () => void

/** Tracks whether a promise has settled, without awaiting it. */
function watch(promise: Promise<Release>): { granted: () => Release | undefined } {
  let release: Release | undefined
  promise.then(
    (value) => {
      release = value
    },
    () => undefined,
  )
  return { granted: () => release }
}

/**
 * The budget's own timers are unref'd (a waiting request must not hold a stopping process open;
 * in the BFF the server's sockets keep the loop alive). A test has no server, so it keeps the
 * loop alive itself while it awaits a grant or a refusal.
 */
async function alive<T>(promise: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 1000)
  try {
    return await promise
  } finally {
    clearInterval(keepAlive)
  }
}

describe('createUpstreamBudget', () => {
  it('caps concurrency: the third acquire waits until one releases, and waiters go FIFO', async () => {
    const budget = createUpstreamBudget({
      maxConcurrency: 2,
      rate: memoryRateBucket(10_000),
      queueTimeoutMs: 2000,
    })
    const first = await budget.acquire()
    const second = await budget.acquire()
    assert.equal(budget.inFlight(), 2)

    const order: string[] = []
    const third = budget.acquire().then((release) => (order.push('third'), release))
    const fourth = budget.acquire().then((release) => (order.push('fourth'), release))
    const fifth = budget.acquire().then((release) => (order.push('fifth'), release))
    const watched = watch(third)
    await sleep(30)
    assert.equal(watched.granted(), undefined, 'the third waits while two are in flight')
    assert.deepEqual(order, [])
    assert.equal(budget.inFlight(), 2)

    first()
    const thirdRelease = await third
    assert.deepEqual(order, ['third'], 'one slot freed, one waiter served: the oldest')
    assert.equal(budget.inFlight(), 2)

    second()
    const fourthRelease = await fourth
    assert.deepEqual(order, ['third', 'fourth'])

    thirdRelease()
    const fifthRelease = await fifth
    assert.deepEqual(order, ['third', 'fourth', 'fifth'])

    fourthRelease()
    fifthRelease()
    assert.equal(budget.inFlight(), 0)
  })

  it('rejects a waiter with RATE_LIMITED and a Retry-After after queueTimeoutMs', async () => {
    const budget = createUpstreamBudget({
      maxConcurrency: 1,
      rate: memoryRateBucket(10_000),
      queueTimeoutMs: 60,
    })
    const held = await budget.acquire()
    const started = performance.now()
    await assert.rejects(alive(budget.acquire()), (err: unknown) => {
      assert.ok(err instanceof BffError)
      assert.equal(err.code, 'RATE_LIMITED')
      assert.equal(err.status, 429)
      assert.ok(err.retryAfter !== undefined && err.retryAfter >= 1, `retryAfter ${err.retryAfter}`)
      return true
    })
    assert.ok(performance.now() - started >= 50, 'it waited for the queue timeout first')

    // The timed-out waiter left the queue: the next release does not hand it a slot.
    assert.equal(budget.inFlight(), 1)
    held()
    assert.equal(budget.inFlight(), 0)
    const again = await budget.acquire()
    assert.equal(budget.inFlight(), 1)
    again()
  })

  it('rejects with RATE_LIMITED when the rate, not concurrency, keeps a waiter past the timeout', async () => {
    const budget = createUpstreamBudget({
      maxConcurrency: 100,
      rate: memoryRateBucket(1),
      queueTimeoutMs: 50,
    })
    ;(await budget.acquire())()
    await assert.rejects(alive(budget.acquire()), (err: unknown) => {
      assert.ok(err instanceof BffError)
      assert.equal(err.code, 'RATE_LIMITED')
      assert.ok((err.retryAfter ?? 0) >= 1)
      return true
    })
    assert.equal(budget.inFlight(), 0)
  })

  it('a release function called twice releases once', async () => {
    const budget = createUpstreamBudget({
      maxConcurrency: 1,
      rate: memoryRateBucket(10_000),
      queueTimeoutMs: 2000,
    })
    const first = await budget.acquire()
    first()
    first()
    assert.equal(budget.inFlight(), 0, 'not -1')

    const second = await budget.acquire()
    first() // a stale release of a slot long given back must not free the new holder's slot
    assert.equal(budget.inFlight(), 1)
    const third = budget.acquire()
    const watched = watch(third)
    await sleep(30)
    assert.equal(watched.granted(), undefined, 'the cap of one still holds')

    second()
    second()
    const thirdRelease = await third
    assert.equal(budget.inFlight(), 1)
    thirdRelease()
    assert.equal(budget.inFlight(), 0)
  })

  it('limits the rate: at 10/s with a burst of 1, five acquires in a row take ≥ ~300 ms', async () => {
    const budget = createUpstreamBudget({
      maxConcurrency: 100,
      rate: memoryRateBucket(10),
      queueTimeoutMs: 5000,
    })
    const grantedAt: number[] = []
    const started = performance.now()
    const all = Array.from({ length: 5 }, () =>
      budget.acquire().then((release) => {
        grantedAt.push(performance.now() - started)
        release() // concurrency is not what limits here
      }),
    )
    await alive(Promise.all(all))
    assert.equal(grantedAt.length, 5)
    // Four waits of 100 ms after the first token (~400 ms); a lower bound only, generously.
    const last = grantedAt[4] ?? 0
    const first = grantedAt[0] ?? 0
    assert.ok(last - first >= 250, `last granted ${Math.round(last - first)} ms after the first`)
    for (let i = 1; i < grantedAt.length; i++) {
      assert.ok((grantedAt[i] ?? 0) >= (grantedAt[i - 1] ?? 0), 'granted in order')
    }
    assert.equal(budget.inFlight(), 0)
  })

  it('applies the rate to acquires made one after another, not only to a queue', async () => {
    const budget = createUpstreamBudget({
      maxConcurrency: 1,
      rate: memoryRateBucket(10),
      queueTimeoutMs: 5000,
    })
    const started = performance.now()
    for (let i = 0; i < 4; i++) (await alive(budget.acquire()))()
    assert.ok(performance.now() - started >= 250, 'three refills of ~100 ms each')
  })
})

describe('the budget observer', () => {
  it('is told of each grant with its wait, and of each refusal with its reason', async () => {
    let clock = 1000
    const told: string[] = []
    const budget = createUpstreamBudget({
      maxConcurrency: 1,
      rate: memoryRateBucket(10_000),
      queueTimeoutMs: 20,
      now: () => clock,
      observer: {
        granted: (waitMs) => told.push(`granted ${waitMs}`),
        rejected: (reason) => told.push(`rejected ${reason}`),
      },
    })
    const first = await budget.acquire()
    const waiting = budget.acquire()
    assert.equal(budget.queued(), 1)
    clock += 7
    first()
    ;(await waiting)()
    await assert.rejects(
      alive(Promise.all([budget.acquire(), budget.acquire()])),
      (err: unknown) => err instanceof BffError && err.code === 'RATE_LIMITED',
    )
    assert.deepEqual(told.slice(0, 3), ['granted 0', 'granted 7', 'granted 0'])
    assert.ok(told.includes('rejected queue_timeout'))
    assert.equal(budget.queued(), 0)
  })

  it('reports a rate store that fails as store_error', async () => {
    const told: string[] = []
    const budget = createUpstreamBudget({
      maxConcurrency: 1,
      rate: { take: () => Promise.reject(new Error('redis down')) },
      queueTimeoutMs: 1000,
      observer: { granted: () => told.push('granted'), rejected: (reason) => told.push(reason) },
    })
    await assert.rejects(alive(budget.acquire()), /redis down/)
    assert.deepEqual(told, ['store_error'])
  })
})
