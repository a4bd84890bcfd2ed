/**
 * The cache of verified app JWTs: verified once while they live, expiry still enforced on every
 * use, refusals never remembered, the size bounded. Driven through the real verifier with real
 * HS256 JWTs; the count of verifications is what the cache saves.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BffError } from '../../../src/errors.js'
import { hs256Source } from '../../../src/identity/keys.js'
import { cachingVerifier } from '../../../src/identity/verified-cache.js'
import { createJwtVerifier, type VerifyJwt } from '../../../src/identity/verify-jwt.js'
import { testClock } from '../../helpers/clock.js'
import { signAppJwt, TEST_AUDIENCE, TEST_HS256_SECRET, TEST_ISSUER } from '../../helpers/jwt.js'

function counted(now: () => number): { verify: VerifyJwt; calls: () => number } {
  const real = createJwtVerifier(
    hs256Source(TEST_HS256_SECRET),
    { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, clockToleranceSeconds: 30 },
    now,
  )
  let calls = 0
  return {
    verify: (jwt) => {
      calls++
      return real(jwt)
    },
    calls: () => calls,
  }
}

describe('cachingVerifier', () => {
  it('verifies a JWT once while it lives, and hands out one frozen payload', async () => {
    const clock = testClock()
    const inner = counted(clock.now)
    const verify = cachingVerifier(inner.verify, { clockToleranceSeconds: 30, now: clock.now })
    const jwt = await signAppJwt({ sub: 'alice' }, { now: clock.now })
    const first = await verify(jwt)
    const second = await verify(jwt)
    assert.equal(first.sub, 'alice')
    assert.equal(second, first)
    assert.ok(Object.isFrozen(first))
    assert.equal(inner.calls(), 1)
  })

  it('refuses a cached JWT once it has expired (with the same tolerance)', async () => {
    const clock = testClock()
    const inner = counted(clock.now)
    const verify = cachingVerifier(inner.verify, { clockToleranceSeconds: 30, now: clock.now })
    const jwt = await signAppJwt({ sub: 'bob' }, { now: clock.now, expiresIn: 60 })
    await verify(jwt)
    clock.advance(60_000 + 29_000)
    assert.equal((await verify(jwt)).sub, 'bob', 'still within the tolerance')
    clock.advance(2000)
    await assert.rejects(verify(jwt), (err: unknown) => {
      assert.ok(err instanceof BffError)
      assert.equal(err.code, 'INVALID_TOKEN')
      assert.match(err.message, /expired/)
      return true
    })
  })

  it('never remembers a refusal: a bad JWT is verified (and refused) every time', async () => {
    const clock = testClock()
    const inner = counted(clock.now)
    const verify = cachingVerifier(inner.verify, { clockToleranceSeconds: 30, now: clock.now })
    const forged = await signAppJwt({ sub: 'mallory' }, { now: clock.now, secret: 'x'.repeat(40) })
    await assert.rejects(verify(forged), { code: 'INVALID_TOKEN' })
    await assert.rejects(verify(forged), { code: 'INVALID_TOKEN' })
    assert.equal(inner.calls(), 2)
  })

  it('keeps at most maxEntries, dropping the oldest; clear() forgets them all', async () => {
    const clock = testClock()
    const inner = counted(clock.now)
    const verify = cachingVerifier(inner.verify, {
      clockToleranceSeconds: 30,
      now: clock.now,
      maxEntries: 2,
    })
    const jwts = await Promise.all(
      ['u1', 'u2', 'u3'].map((sub) => signAppJwt({ sub }, { now: clock.now })),
    )
    for (const jwt of jwts) await verify(jwt)
    assert.equal(inner.calls(), 3)
    await verify(jwts[2]!)
    assert.equal(inner.calls(), 3, 'the newest is still cached')
    await verify(jwts[0]!)
    assert.equal(inner.calls(), 4, 'the oldest was dropped')
    verify.clear()
    await verify(jwts[2]!)
    assert.equal(inner.calls(), 5)
  })
})
