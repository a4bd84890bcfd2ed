import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SingleFlight } from '../../../src/tokens/single-flight.js'
import { MemoryTokenCache } from '../../../src/tokens/cache.js'
import { testClock } from '../../helpers/clock.js'

describe('SingleFlight', () => {
  it('runs the work once for concurrent callers of one key and counts the joins', async () => {
    const flights = new SingleFlight<number>()
    let runs = 0
    let joins = 0
    let release: (value: number) => void = () => undefined
    const work = () => {
      runs++
      return new Promise<number>((resolve) => (release = resolve))
    }
    const all = Array.from({ length: 20 }, () => flights.run('k', work, () => joins++))
    release(7)
    assert.deepEqual(await Promise.all(all), Array(20).fill(7))
    assert.equal(runs, 1)
    assert.equal(joins, 19)
    assert.equal(flights.inFlight, 0)
  })

  it('keeps keys apart', async () => {
    const flights = new SingleFlight<string>()
    const [a, b] = await Promise.all([
      flights.run('a', async () => 'A'),
      flights.run('b', async () => 'B'),
    ])
    assert.deepEqual([a, b], ['A', 'B'])
  })

  it('does not wedge a key after a failure, synchronous or not', async () => {
    const flights = new SingleFlight<number>()
    await assert.rejects(
      flights.run('k', () => Promise.reject(new Error('boom'))),
      /boom/,
    )
    await assert.rejects(
      flights.run('k', () => {
        throw new Error('sync')
      }),
      /sync/,
    )
    assert.equal(await flights.run('k', async () => 1), 1)
    assert.equal(flights.inFlight, 0)
  })
})

describe('MemoryTokenCache', () => {
  const token = (username: string, n: number) => ({
    token: `t${n}`,
    expiresAt: 0,
    username,
    api: 'v2-full' as const,
  })

  it('expires entries by their TTL and stores nothing for a TTL ≤ 0', async () => {
    const clock = testClock()
    const cache = new MemoryTokenCache(clock.now)
    await cache.set('a', token('u', 1), 1000)
    await cache.set('b', token('u', 2), 0)
    assert.equal((await cache.get('a'))?.token, 't1')
    assert.equal(await cache.get('b'), undefined)
    clock.advance(1000)
    assert.equal(await cache.get('a'), undefined)
    assert.equal(cache.size, 0)
  })

  it('takes all of one user’s tokens and leaves the others', async () => {
    const cache = new MemoryTokenCache()
    await cache.set('a1', token('alice', 1), 60_000)
    await cache.set('a2', token('alice', 2), 60_000)
    await cache.set('b1', token('bob', 3), 60_000)
    const taken = await cache.takeAllFor('alice')
    assert.deepEqual(taken.map((t) => t.token).sort(), ['t1', 't2'])
    assert.equal(await cache.get('a1'), undefined)
    assert.equal((await cache.get('b1'))?.token, 't3')
    assert.deepEqual(await cache.takeAllFor('alice'), [])
  })

  it('sweeps expired entries on write so it cannot grow without bound', async () => {
    const clock = testClock()
    const cache = new MemoryTokenCache(clock.now)
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, token(`u${i}`, i), 10)
    clock.advance(11)
    await cache.set('fresh', token('z', 99), 1000)
    assert.equal(cache.size, 1)
  })
})
