/**
 * Rotation without restart (issue 9 §2), through the real app: on SIGHUP and when a file changes,
 * every `*_FILE` secret is read again. New mints reach ThoughtSpot with the new key; a session
 * cookie is signed with the new first secret while the old one still verifies; an HS256 JWT
 * signed with the new secret is accepted and one signed with the old is refused; a broken new
 * file keeps the old value and logs at error. With Redis, sessions are sealed with the new first
 * secret too.
 */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { SECRET_POLL_MS } from '../../src/config/secret-holder.js'
import type { Simulator } from '../../src/simulator/server.js'
import { createSealer } from '../../src/state/redis/sealed.js'
import type { TestClock } from '../helpers/clock.js'
import { waitFor } from '../helpers/child-process.js'
import { HTTPS } from '../helpers/http.js'
import { signAppJwt, TEST_HS256_SECRET } from '../helpers/jwt.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'
import {
  startStack,
  startTestSimulator,
  TEST_SESSION_SECRET,
  TEST_TS_SECRET,
  type Stack,
} from '../helpers/start.js'

const NEW_TS_KEY = 'rotated-trusted-auth-key-6e1f0a9d'
const NEW_SESSION_SECRET = 'rotated-session-secret-4b8e2c71d9a0f3e6b5c4'
const NEW_HS256_SECRET = 'rotated-hs256-secret-0f9e8d7c6b5a4f3e2d1c0b'

let stack: Stack
let dir: string
const file = (name: string): string => join(dir, name)

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsbff-rotation-'))
  writeFileSync(file('ts_secret_key'), `${TEST_TS_SECRET}\n`)
  writeFileSync(file('session_secret'), `${TEST_SESSION_SECRET}\n`)
  writeFileSync(file('identity_hs256_secret'), `${TEST_HS256_SECRET}\n`)
  stack = await startStack({
    env: {
      TS_SECRET_KEY: '',
      TS_SECRET_KEY_FILE: file('ts_secret_key'),
      SESSION_SECRET: '',
      SESSION_SECRET_FILE: file('session_secret'),
      IDENTITY_HS256_SECRET: '',
      IDENTITY_HS256_SECRET_FILE: file('identity_hs256_secret'),
    },
  })
})
after(async () => {
  await stack.close()
  rmSync(dir, { recursive: true, force: true })
})

/** A bearer header signed with the HS256 secret in force (the tests rotate it). */
async function bearerFor(sub: string): Promise<Record<string, string>> {
  const secret = stack.services.secrets.identityHs256Secret() ?? ''
  return { Authorization: `Bearer ${await signAppJwt({ sub }, { now: stack.clock.now, secret })}` }
}

/** What the last mint sent ThoughtSpot as its key. */
const lastMintKey = (): unknown =>
  (stack.simulator.state.callsTo('/auth/token/full').at(-1)?.json as { secret_key?: string })
    ?.secret_key

const logged = (event: string): Record<string, unknown>[] =>
  stack.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.event === event)

/** The signature express-session puts on a session id (cookie-signature's HMAC-SHA256). */
const signature = (sid: string, secret: string): string =>
  createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '')

function signedWith(cookie: string, secret: string): boolean {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
  const [sid, sig] = value.slice(2).split('.')
  return sig === signature(sid ?? '', secret)
}

it('mints with the new ThoughtSpot key right after SIGHUP', async () => {
  const headers = { Authorization: `Bearer ${await stack.jwt({ sub: 'rotate-ts@acme.com' })}` }
  assert.equal((await stack.request.get('/ts/auth/token').set(headers)).status, 200)
  assert.equal(lastMintKey(), TEST_TS_SECRET)

  // The key was regenerated in ThoughtSpot (the old one stops working there), then the file.
  stack.simulator.state.secretKey = NEW_TS_KEY
  writeFileSync(file('ts_secret_key'), `${NEW_TS_KEY}\n`)
  stack.services.watch()
  try {
    process.kill(process.pid, 'SIGHUP')
    await waitFor(() => logged('secrets.rotated').length > 0, {
      timeoutMs: 10_000,
      what: 'the key is rotated',
    })
  } finally {
    stack.services.secrets.stop()
    stack.services.mapping.stop()
  }
  const fresh = await stack.request.get('/ts/auth/token?fresh=true').set(headers)
  assert.equal(fresh.status, 200)
  assert.equal(lastMintKey(), NEW_TS_KEY)
  assert.equal(stack.simulator.state.callsTo('/auth/token/full').at(-1)?.status, 200)
  assert.equal(
    stack.logs.some((line) => line.includes(NEW_TS_KEY)),
    false,
    'the key is never logged',
  )
  const metrics = await stack.request.get('/metrics')
  assert.match(
    metrics.text,
    /tsbff_secret_reloads_total\{setting="TS_SECRET_KEY",outcome="rotated"\} 1/,
  )
})

it('signs new session cookies with the new first secret; old cookies verify until it is dropped', async () => {
  const old = await stack.login({ sub: 'rotate-session@acme.com' })
  assert.ok(signedWith(old, TEST_SESSION_SECRET))

  writeFileSync(file('session_secret'), `${NEW_SESSION_SECRET},${TEST_SESSION_SECRET}\n`)
  assert.ok(stack.services.secrets.reload().some((item) => item.outcome === 'rotated'))
  const fresh = await stack.login({ sub: 'rotate-session@acme.com' })
  assert.ok(signedWith(fresh, NEW_SESSION_SECRET), 'signed with the new first secret')
  assert.equal(signedWith(fresh, TEST_SESSION_SECRET), false)
  for (const cookie of [old, fresh]) {
    const shown = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(shown.status, 200, 'both cookies verify')
  }

  writeFileSync(file('session_secret'), `${NEW_SESSION_SECRET}\n`)
  stack.services.secrets.reload()
  const retired = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', old)
  assert.equal(retired.status, 401, 'a cookie of a retired secret is no session')
  const kept = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', fresh)
  assert.equal(kept.status, 200)
})

it('accepts HS256 app JWTs signed with the new secret and refuses the old one', async () => {
  const sign = (secret: string) =>
    signAppJwt({ sub: 'rotate-jwt@acme.com' }, { now: stack.clock.now, secret })
  // One JWT, verified (and so cached) before the rotation: it must not outlive its secret.
  const old = await sign(TEST_HS256_SECRET)
  const before = await stack.request.get('/ts/session').set('Authorization', `Bearer ${old}`)
  assert.equal(before.status, 200)

  writeFileSync(file('identity_hs256_secret'), NEW_HS256_SECRET)
  stack.services.secrets.reload()
  const fresh = await stack.request
    .get('/ts/session')
    .set('Authorization', `Bearer ${await sign(NEW_HS256_SECRET)}`)
  assert.equal(fresh.status, 200)
  const stale = await stack.request.get('/ts/session').set('Authorization', `Bearer ${old}`)
  assert.equal(stale.status, 401)
  assert.equal(stale.body.error.code, 'INVALID_TOKEN')
})

it('keeps the old value when a new file is empty, logging at error', async () => {
  const headers = await bearerFor('rotate-broken@acme.com')
  writeFileSync(file('ts_secret_key'), '\n')
  const report = stack.services.secrets.reload()
  assert.equal(report.find((item) => item.setting === 'TS_SECRET_KEY')?.outcome, 'rejected')
  const rejected = logged('secrets.rejected').at(-1)
  assert.equal(rejected?.level, 'error')
  assert.equal(rejected?.setting, 'TS_SECRET_KEY')
  assert.match(JSON.stringify(rejected?.problems), /TS_SECRET_KEY_FILE: file .* is empty/)

  const minted = await stack.request.get('/ts/auth/token').set(headers)
  assert.equal(minted.status, 200, 'mints go on with the key in force')
  assert.equal(lastMintKey(), NEW_TS_KEY)
})

it('notices a changed file without a signal (polled like the mapping)', async () => {
  const key = 'rotated-again-by-file-change-1c2d'
  stack.services.secrets.watch()
  try {
    // The watcher's first look at the file is its starting state: let it take it first.
    await sleep(SECRET_POLL_MS)
    stack.simulator.state.secretKey = key
    writeFileSync(file('ts_secret_key'), key)
    await waitFor(() => stack.services.secrets.tsSecretKeyFor(0) === key, {
      timeoutMs: 15_000,
      what: 'the changed key file is read',
    })
  } finally {
    stack.services.secrets.stop()
  }
  const headers = await bearerFor('rotate-polled@acme.com')
  assert.equal((await stack.request.get('/ts/auth/token').set(headers)).status, 200)
  assert.equal(lastMintKey(), key)
})

describe('with Redis', () => {
  const realClock: TestClock = { now: Date.now, advance: () => undefined }
  let redis: TestRedis
  let shared: Stack
  let client: Redis
  let simulator: Simulator
  let secretFile: string
  before(async () => {
    redis = await startRedis()
    client = new Redis(redis.url)
    secretFile = file('redis_session_secret')
    writeFileSync(secretFile, TEST_SESSION_SECRET)
    simulator = await startTestSimulator({ clock: realClock })
    shared = await startStack({
      clock: realClock,
      simulator,
      env: { REDIS_URL: redis.url, SESSION_SECRET: '', SESSION_SECRET_FILE: secretFile },
    })
    await waitFor(async () => (await shared.request.get('/readyz')).status === 200, {
      timeoutMs: 10_000,
      what: 'Redis is connected',
    })
  })
  after(async () => {
    await shared.close()
    await simulator.close()
    client.disconnect()
    await redis.stop()
  })

  /** The key ids (`v1.<kid>.…`) of every sealed value in Redis. */
  async function sealedKids(): Promise<Set<string>> {
    const kids = new Set<string>()
    for (const key of await client.keys('*')) {
      if ((await client.type(key)) !== 'string') continue
      const value = (await client.get(key)) ?? ''
      if (value.startsWith('v1.')) kids.add(value.split('.')[1] ?? '')
    }
    return kids
  }
  const kidOf = (secret: string): string =>
    createSealer([secret], 'tsbff:').seal('x', 'y').split('.')[1] ?? ''

  it('seals new sessions with the new first secret and still opens the old ones', async () => {
    const old = await shared.login({ sub: 'redis-rotate@acme.com' })
    assert.deepEqual([...(await sealedKids())], [kidOf(TEST_SESSION_SECRET)])
    writeFileSync(secretFile, `${NEW_SESSION_SECRET},${TEST_SESSION_SECRET}`)
    shared.services.secrets.reload()
    const fresh = await shared.login({ sub: 'redis-rotate-2@acme.com' })
    assert.ok((await sealedKids()).has(kidOf(NEW_SESSION_SECRET)))
    for (const cookie of [old, fresh]) {
      const shown = await shared.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
      assert.equal(shown.status, 200)
    }
  })
})
