/**
 * Several replicas serve as one (issue 6): two BFF stacks with the same REDIS_URL, one real
 * redis-server, one ThoughtSpot simulator, requests alternating between them — the topology of
 * docker-compose.yml, run by hand. Every assertion is on what reached the simulator or Redis.
 */
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { bearer, HTTPS } from '../helpers/http.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'
import {
  startStack,
  startTestSimulator,
  TEST_SESSION_SECRET,
  type Stack,
  type StackOptions,
} from '../helpers/start.js'
import type { Simulator } from '../../src/simulator/server.js'
import type { TestClock } from '../helpers/clock.js'

/** The real clock: Redis expires keys in real time, so the BFF and the simulator must too. */
const realClock: TestClock = { now: Date.now, advance: () => undefined }

let redis: TestRedis
let simulator: Simulator
let a: Stack
let b: Stack

async function replica(options: StackOptions = {}): Promise<Stack> {
  const stack = await startStack({
    clock: realClock,
    simulator,
    ...options,
    env: { REDIS_URL: redis.url, ...options.env },
  })
  await eventually(async () => (await stack.request.get('/readyz')).status === 200)
  return stack
}

async function eventually(check: () => Promise<boolean>, what = 'condition'): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return
    await sleep(25)
  }
  assert.fail(`${what} not reached`)
}

const mints = (): number => simulator.state.callsTo('/auth/token/full').length

before(async () => {
  redis = await startRedis()
  simulator = await startTestSimulator({ clock: realClock })
  a = await replica()
  b = await replica()
})
after(async () => {
  await a.close()
  await b.close()
  await simulator.close()
  await redis.stop()
})
afterEach(() => {
  simulator.state.calls.length = 0
})

describe('two replicas with one Redis', () => {
  it('a session made on A works on B', async () => {
    const cookie = await a.login({ sub: 'roamer@acme.com', roles: ['analyst'] })
    const onB = await b.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(onB.status, 200, onB.text)
    assert.equal(onB.body.username, 'roamer@acme.com')
    assert.deepEqual(onB.body.groups, ['analysts', 'embed_viewers'])
  })

  it('a token minted through A is reused through B: one mint', async () => {
    const headers = bearer(await a.jwt({ sub: 'reuser@acme.com' }))
    const first = await a.request.get('/ts/auth/token').set(headers)
    const second = await b.request.get('/ts/auth/token').set(headers)
    assert.equal(first.status, 200)
    assert.equal(second.text, first.text)
    assert.equal(mints(), 1)
  })

  it('50 concurrent first calls over A and B mint once', async () => {
    const headers = bearer(await a.jwt({ sub: 'crowd@acme.com' }))
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 === 0 ? a : b).request.get('/ts/auth/token').set(headers),
      ),
    )
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]))
    assert.equal(new Set(answers.map((answer) => answer.text)).size, 1, 'one token for all')
    assert.equal(mints(), 1)
  })

  it('50 concurrent first proxied calls over A and B mint once and all reach ThoughtSpot', async () => {
    const headers = bearer(await a.jwt({ sub: 'proxied-crowd@acme.com' }))
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 === 0 ? a : b).request
          .post('/ts/api/rest/2.0/metadata/search')
          .set(headers)
          .send({ metadata: [{ type: 'LIVEBOARD' }] }),
      ),
    )
    assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([200]))
    assert.equal(mints(), 1)
    assert.equal(simulator.state.callsTo('/metadata/search').length, 50)
  })

  it('a logout on A is seen by B before A answers: cookie refused, no cached token, revoked', async () => {
    const cookie = await a.login({ sub: 'leaver@acme.com' })
    const before = await b.request.get('/ts/auth/token').set(HTTPS).set('Cookie', cookie)
    assert.equal(before.status, 200)
    const token = before.text
    const logout = await a.request
      .delete('/ts/session')
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('X-CSRF', '1')
    assert.equal(logout.status, 204)
    assert.equal(simulator.state.tokens.get(token)?.revoked, true, 'revoked upstream')
    const after = await b.request.get('/ts/auth/token').set(HTTPS).set('Cookie', cookie)
    assert.equal(after.status, 401, 'B refuses the old cookie at once')
    // The same user with a bearer JWT on B gets a new token: nothing was left cached.
    const fresh = await b.request
      .get('/ts/auth/token')
      .set(bearer(await b.jwt({ sub: 'leaver@acme.com' })))
    assert.equal(fresh.status, 200)
    assert.notEqual(fresh.text, token)
  })

  it('logout on B revokes tokens minted through A, a replaced one included', async () => {
    const headers = bearer(await a.jwt({ sub: 'many-tokens@acme.com' }))
    const first = (await a.request.get('/ts/auth/token').set(headers)).text
    const forced = (await a.request.get('/ts/auth/token?fresh=true').set(headers)).text
    assert.notEqual(first, forced)
    const logout = await b.request.delete('/ts/session').set(headers)
    assert.equal(logout.status, 204)
    assert.equal(simulator.state.tokens.get(first)?.revoked, true, 'the replaced token')
    assert.equal(simulator.state.tokens.get(forced)?.revoked, true, 'the cached token')
  })

  it('nothing in Redis holds a token, a username or a session in clear', async () => {
    const cookie = await a.login({ sub: 'secretive@acme.com', email: 'secretive@acme.com' })
    const token = (await b.request.get('/ts/auth/token').set(HTTPS).set('Cookie', cookie)).text
    const client = new Redis(redis.url)
    try {
      const keys = await client.keys('*')
      assert.ok(keys.length > 0)
      const dump: string[] = [...keys]
      for (const key of keys) {
        const type = await client.type(key)
        if (type === 'string') dump.push((await client.get(key)) ?? '')
        else if (type === 'zset') dump.push(...(await client.zrange(key, 0, -1)))
        else if (type === 'set') dump.push(...(await client.smembers(key)))
        else if (type === 'hash') dump.push(...Object.values(await client.hgetall(key)))
      }
      const text = dump.join('\n')
      assert.ok(
        keys.every((key) => key.startsWith('tsbff:')),
        'every key has the prefix',
      )
      assert.equal(text.includes(token), false, 'no token in clear')
      assert.equal(text.includes('secretive'), false, 'no username in clear')
      assert.equal(text.includes('analyst'), false, 'no claims in clear')
    } finally {
      client.disconnect()
    }
  })

  it('a MONITOR of Redis during a login, a mint and a proxied call shows no credential', async () => {
    const base = new Redis(redis.url)
    const monitor = await base.monitor()
    const seen: string[] = []
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args.join(' ')))
    try {
      const cookie = await a.login({ sub: 'watched@acme.com' })
      const token = (await b.request.get('/ts/auth/token').set(HTTPS).set('Cookie', cookie)).text
      const proxied = await a.request
        .post('/ts/api/rest/2.0/metadata/search')
        .set(HTTPS)
        .set('Cookie', cookie)
        .set('X-CSRF', '1')
        .send({})
      assert.equal(proxied.status, 200)
      await sleep(100)
      const text = seen.join('\n')
      assert.ok(seen.length > 0, 'the monitor saw the commands')
      assert.equal(text.includes(token), false)
      assert.equal(text.includes('watched'), false)
      assert.equal(
        text.includes(cookie.split('=')[1]!.split('.')[0]!.slice(4)),
        true,
        'sids are keys',
      )
    } finally {
      monitor.disconnect()
      base.disconnect()
    }
  })
})

describe('limits shared by replicas', () => {
  let x: Stack
  let y: Stack
  before(async () => {
    const config = {
      rateLimits: { perIpPerMinute: 100_000, perUserPerMinute: 100_000, mintsPerUserPerMinute: 3 },
    }
    x = await replica({ config })
    y = await replica({ config })
  })
  after(async () => {
    await x.close()
    await y.close()
  })

  it('the per-user mint limit is one limit across replicas', async () => {
    const headers = bearer(await x.jwt({ sub: 'greedy@acme.com' }))
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const via = i % 2 === 0 ? x : y
      statuses.push((await via.request.get('/ts/auth/token?fresh=true').set(headers)).status)
    }
    assert.deepEqual(statuses, [200, 200, 200, 429])
    assert.equal(mints(), 3)
  })
})

describe('session secret rotation across replicas', () => {
  it('a cookie signed with a rotated-out secret is refused on both; the new first secret signs', async () => {
    const old = await a.login({ sub: 'rotated@acme.com' })
    const next = `rotated-in-secret-${'n'.repeat(40)}`
    const env = { SESSION_SECRET: `${next},${TEST_SESSION_SECRET}` }
    const p = await replica({ env })
    const q = await replica({ env })
    try {
      // Both secrets verify: the old cookie still works while the old secret is listed.
      assert.equal((await p.request.get('/ts/session').set(HTTPS).set('Cookie', old)).status, 200)
      const made = await p.login({ sub: 'rotated@acme.com' })
      assert.equal((await q.request.get('/ts/session').set(HTTPS).set('Cookie', made)).status, 200)
      // The old secret is removed from both: the old cookie is refused, the new one still works.
      const r = await replica({ env: { SESSION_SECRET: next } })
      const s = await replica({ env: { SESSION_SECRET: next } })
      try {
        for (const stack of [r, s]) {
          assert.equal(
            (await stack.request.get('/ts/session').set(HTTPS).set('Cookie', old)).status,
            401,
          )
          assert.equal(
            (await stack.request.get('/ts/session').set(HTTPS).set('Cookie', made)).status,
            200,
          )
        }
      } finally {
        await r.close()
        await s.close()
      }
    } finally {
      await p.close()
      await q.close()
    }
  })
})

describe('the shared upstream budget', () => {
  it('two replicas together never send ThoughtSpot more than maxRequestsPerSecond', async () => {
    const config = { thoughtspot: { maxRequestsPerSecond: 20, queueTimeoutMs: 5000 } }
    const x = await replica({ config })
    const y = await replica({ config })
    try {
      const headers = bearer(await x.jwt({ sub: 'budgeted@acme.com' }))
      // Warm the token so only data calls count.
      assert.equal((await x.request.get('/ts/auth/token').set(headers)).status, 200)
      simulator.state.calls.length = 0
      const started = Date.now()
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? x : y).request
            .post('/ts/api/rest/2.0/searchdata')
            .set(headers)
            .send({ query_string: '[Revenue]', logical_table_identifier: 'x' }),
        ),
      )
      const elapsed = (Date.now() - started) / 1000
      assert.ok(answers.every((answer) => answer.status !== 500))
      const sent = simulator.state.callsTo('/searchdata').length
      // A burst of 2 (a tenth of a second), then 20/s: never more, however fast the machine.
      assert.ok(sent <= 2 + Math.ceil(20 * elapsed) + 1, `${sent} calls in ${elapsed.toFixed(2)} s`)
    } finally {
      await x.close()
      await y.close()
    }
  })
})

describe('Redis failing', () => {
  it('killed: /readyz 503 naming Redis, requests 503 STORE_UNAVAILABLE, nothing minted, no crash; back: works without restart', async () => {
    const headers = bearer(await a.jwt({ sub: 'outage@acme.com' }))
    await redis.kill()
    try {
      const ready = await a.request.get('/readyz')
      assert.equal(ready.status, 503)
      assert.match(ready.body.reason, /Redis/)
      for (const stack of [a, b]) {
        const token = await stack.request.get('/ts/auth/token').set(headers)
        assert.equal(token.status, 503, token.text)
        assert.equal(token.body.error.code, 'STORE_UNAVAILABLE')
        const proxied = await stack.request
          .post('/ts/api/rest/2.0/searchdata')
          .set(headers)
          .send({})
        assert.equal(proxied.body.error.code, 'STORE_UNAVAILABLE')
      }
      assert.equal(simulator.state.calls.length, 0, 'nothing reached ThoughtSpot')
      assert.equal((await a.request.get('/healthz')).status, 200, 'the process still serves')
    } finally {
      await redis.restart()
    }
    await eventually(async () => (await a.request.get('/readyz')).status === 200, 'A ready again')
    await eventually(async () => (await b.request.get('/readyz')).status === 200, 'B ready again')
    const token = await b.request.get('/ts/auth/token').set(headers)
    assert.equal(token.status, 200, token.text)
    assert.equal(mints(), 1)
  })

  it('hung (SIGSTOP): requests fail with 503 within the command deadline, never hang; sessions survive', async () => {
    const cookie = await a.login({ sub: 'patient@acme.com' })
    redis.pause()
    try {
      const started = Date.now()
      const answers = await Promise.all([
        a.request.get('/ts/session').set(HTTPS).set('Cookie', cookie),
        b.request.get('/ts/auth/token').set(bearer(await b.jwt({ sub: 'patient@acme.com' }))),
      ])
      for (const answer of answers) {
        assert.equal(answer.status, 503, answer.text)
        assert.equal(answer.body.error.code, 'STORE_UNAVAILABLE')
      }
      // Bounded, not a timing assertion on speed: it must not wait for a reconnect minute.
      assert.ok(Date.now() - started < 30_000)
      const ready = await a.request.get('/readyz')
      assert.equal(ready.status, 503)
    } finally {
      redis.resume()
    }
    await eventually(async () => (await a.request.get('/readyz')).status === 200, 'A ready again')
    await eventually(
      async () =>
        (await b.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)).status === 200,
      'the session made before the outage works again',
    )
  })
})
