import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startStack, type Stack } from '../helpers/start.js'
import { storesWithFailingSessions, storesWithFlakySessions } from '../helpers/stores.js'

let stack: Stack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

it('/healthz and /readyz answer 200 with helmet headers and a request id', async () => {
  const health = await stack.request.get('/healthz')
  assert.equal(health.status, 200)
  assert.equal(health.headers['x-content-type-options'], 'nosniff')
  assert.ok(health.headers['x-request-id'])
  const ready = await stack.request.get('/readyz')
  assert.equal(ready.status, 200)
  assert.equal(ready.body.status, 'ready')
})

it('writes one access line per request: its id, route family, status and user, never the query', async () => {
  const bearer = `Bearer ${await stack.jwt({ sub: 'access-line@acme.com' })}`
  const response = await stack.request
    .get('/ts/auth/token?fresh=true&objectId=0b1e5c1e-5ec2-4e7a-9b8f-5ecae7f00d42')
    .set('Authorization', bearer)
  assert.equal(response.status, 200)
  const lines = stack.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter(
      (entry) =>
        entry.event === 'http.request' && entry.requestId === response.headers['x-request-id'],
    )
  assert.equal(lines.length, 1)
  const [line] = lines
  assert.equal(line?.route, '/ts/auth/token')
  assert.equal(line?.path, '/ts/auth/token')
  assert.equal(line?.status, 200)
  assert.equal(line?.user, 'access-line@acme.com')
  assert.equal(line?.level, 'info')
  assert.equal(typeof line?.ms, 'number')
  assert.ok(!JSON.stringify(line).includes('0b1e5c1e-5ec2-4e7a-9b8f-5ecae7f00d42'))
})

describe('with a session store that does not answer', () => {
  let down: Stack
  before(async () => {
    down = await startStack({ stores: storesWithFailingSessions })
  })
  after(() => down.close())

  it('/readyz is 503 NOT_READY naming the session store', async () => {
    const ready = await down.request.get('/readyz')
    assert.equal(ready.status, 503)
    assert.match(ready.body.reason, /session store/)
    assert.equal(ready.body.error.code, 'NOT_READY')
    assert.equal(ready.body.error.requestId, ready.headers['x-request-id'])
  })

  it('a request with a session cookie fails closed with 503 STORE_UNAVAILABLE, never a 500', async () => {
    // A cookie signed with the stack's secret, made by a healthy stack: the store is asked for it.
    const cookie = await stack.login({ sub: 'store-user@acme.com' })
    const response = await down.request
      .get('/ts/session')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', cookie)
    assert.equal(response.status, 503)
    assert.equal(response.body.error.code, 'STORE_UNAVAILABLE')
    assert.equal(response.text.includes('store down'), false)
  })

  it('a login fails closed with 503 STORE_UNAVAILABLE and sets no cookie', async () => {
    const response = await down.request
      .post('/ts/session')
      .set('X-Forwarded-Proto', 'https')
      .set('Authorization', `Bearer ${await down.jwt({ sub: 'store-user@acme.com' })}`)
    assert.equal(response.status, 503)
    assert.equal(response.body.error.code, 'STORE_UNAVAILABLE')
    assert.equal(response.headers['set-cookie'], undefined)
  })
})

it('/readyz is 503 once shutdown has begun, so balancers stop sending; /healthz stays 200', async () => {
  const stopping = await startStack()
  try {
    stopping.services.drain()
    const ready = await stopping.request.get('/readyz')
    assert.equal(ready.status, 503)
    assert.match(ready.body.reason, /shutting down/)
    assert.equal((await stopping.request.get('/healthz')).status, 200)
  } finally {
    await stopping.close()
  }
})

it('unknown routes are a JSON 404, never an HTML page', async () => {
  const response = await stack.request.get('/nope/../etc')
  assert.equal(response.status, 404)
  assert.equal(response.body.error.code, 'NOT_FOUND')
})

it('/metrics exposes the documented counters with no usernames or raw paths as labels', async () => {
  const jwt = await stack.jwt({ sub: 'metrics-user@acme.com' })
  await stack.request.get('/ts/auth/token').set('Authorization', `Bearer ${jwt}`)
  await stack.request.get('/ts/auth/token').set('Authorization', `Bearer ${jwt}`)
  await stack.request.get('/ts/api/rest/2.0/some/raw/path-xyz')
  const metrics = await stack.request.get('/metrics')
  assert.equal(metrics.status, 200)
  for (const name of [
    'tsbff_http_requests_total',
    'tsbff_upstream_request_duration_seconds',
    'tsbff_token_mints_total',
    'tsbff_token_cache_hits_total',
    'tsbff_token_cache_misses_total',
    'tsbff_singleflight_joins_total',
  ]) {
    assert.match(metrics.text, new RegExp(`^${name}`, 'm'), name)
  }
  assert.match(metrics.text, /tsbff_token_mints_total\{api="v2-full",outcome="ok"\} 1/)
  assert.match(metrics.text, /tsbff_token_cache_hits_total 1/)
  assert.equal(metrics.text.includes('metrics-user'), false)
  assert.equal(metrics.text.includes('path-xyz'), false)
})

describe('with a session store that fails for a moment', () => {
  let flaky: Stack
  let stores: ReturnType<typeof storesWithFlakySessions>
  before(async () => {
    flaky = await startStack({
      stores: (config) => (stores = storesWithFlakySessions(config)),
    })
  })
  after(() => flaky.close())

  it('a read that fails answers 503 and leaves the session in place: the next request works', async () => {
    const cookie = await flaky.login({ sub: 'blip@acme.com' })
    stores.failNext(1)
    const during = await flaky.request
      .get('/ts/session')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', cookie)
    assert.equal(during.status, 503)
    assert.equal(during.body.error.code, 'STORE_UNAVAILABLE')
    const after = await flaky.request
      .get('/ts/session')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', cookie)
    assert.equal(after.status, 200, 'the session survived the failed read')
    assert.equal(after.body.username, 'blip@acme.com')
  })
})
