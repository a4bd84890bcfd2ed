import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SingleFlight } from '../../../src/state/single-flight.js'

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
