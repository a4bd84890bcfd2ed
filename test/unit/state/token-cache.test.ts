/** What only the memory token cache does: sweeping dead entries and a bound on its size. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryTokenCache, type CachedToken } from '../../../src/state/token-cache.js'
import { testClock } from '../../helpers/clock.js'

function token(username: string, n: number, expiresAt = Date.now() + 60_000): CachedToken {
  return { token: `t${n}`, expiresAt, username, api: 'v2-full' }
}

describe('MemoryTokenCache', () => {
  it('sweeps expired entries on write so it cannot fill with dead ones', async () => {
    const clock = testClock()
    const cache = new MemoryTokenCache(clock.now)
    for (let i = 0; i < 10; i++) await cache.set(`k${i}`, token(`u${i}`, i), 10)
    clock.advance(11)
    await cache.set('fresh', token('z', 99), 1000)
    assert.equal(cache.size, 1)
  })

  it('drops the least recently stored entry past its maximum size', async () => {
    const cache = new MemoryTokenCache(Date.now, 3)
    for (let i = 0; i < 4; i++) await cache.set(`k${i}`, token(`u${i}`, i), 60_000)
    assert.equal(cache.size, 3)
    assert.equal(await cache.get('k0'), undefined)
    assert.equal((await cache.get('k3'))?.token, 't3')
  })
})
