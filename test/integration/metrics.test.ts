/**
 * Metrics that tell the truth (issue 9 §3): /metrics on the main port while server.metricsPort
 * is null and not there once it is set; the route family of proxied calls; the upstream budget's
 * waits and refusals, mapping reloads, Redis errors; and labels that never grow with users,
 * paths or object ids.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { BffError, ERROR_CODES } from '../../src/errors.js'
import { createLogger } from '../../src/observability/logger.js'
import { connectRedis } from '../../src/state/redis/connection.js'
import { freePort, waitFor } from '../helpers/child-process.js'
import { assertErrorShape } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

/** Every sample of the exposition: metric name, labels, value. */
interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function samples(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(match, `a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!
    }
    out.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return out
}

async function scrape(stack: Stack): Promise<Sample[]> {
  const response = await stack.request.get('/metrics')
  assert.equal(response.status, 200)
  return samples(response.text)
}

const valueOf = (all: Sample[], name: string, labels: Record<string, string> = {}): number =>
  all
    .filter(
      (sample) =>
        sample.name === name &&
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((sum, sample) => sum + sample.value, 0)

const PROXY_CONFIG = {
  proxy: {
    allow: [
      { method: 'POST', path: '/api/rest/2.0/searchdata' },
      { method: 'POST', path: '/api/rest/2.0/metadata/search' },
      { method: 'GET', path: '/callosum/v1/tspublic/v1/session/info' },
    ],
  },
}

describe('the default stack', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({ config: PROXY_CONFIG })
  })
  after(() => stack.close())

  it('serves /metrics on the main port while server.metricsPort is null, with every metric', async () => {
    const response = await stack.request.get('/metrics')
    assert.equal(response.status, 200)
    assert.match(response.headers['content-type'] ?? '', /^text\/plain/)
    for (const name of [
      'tsbff_http_requests_total',
      'tsbff_upstream_request_duration_seconds',
      'tsbff_token_mints_total',
      'tsbff_token_cache_hits_total',
      'tsbff_token_cache_misses_total',
      'tsbff_singleflight_joins_total',
      'tsbff_upstream_budget_wait_seconds',
      'tsbff_upstream_budget_rejections_total',
      'tsbff_upstream_in_flight',
      'tsbff_upstream_queued',
      'tsbff_mapping_reloads_total',
      'tsbff_secret_reloads_total',
      'tsbff_identity_key_fetches_total',
      'tsbff_redis_errors_total',
      'tsbff_audit_suppressed_total',
    ]) {
      assert.match(response.text, new RegExp(`^# HELP ${name} `, 'm'), name)
    }
  })

  it('counts a successful proxied call under its route family, v2 and v1, and logs its /ts path', async () => {
    const headers = { Authorization: `Bearer ${await stack.jwt({ sub: 'family@acme.com' })}` }
    const v2 = await stack.request
      .post('/ts/api/rest/2.0/searchdata')
      .set(headers)
      .send({ query_string: '[sales]', logical_table_identifier: 'x' })
    assert.equal(v2.status, 200)
    const v1 = await stack.request.get('/ts/callosum/v1/tspublic/v1/session/info').set(headers)
    assert.equal(v1.status, 200)
    const all = await scrape(stack)
    const families = { method: 'POST', route: '/ts/api/rest/2.0/*', status: '200' }
    assert.equal(valueOf(all, 'tsbff_http_requests_total', families), 1)
    assert.equal(
      valueOf(all, 'tsbff_http_requests_total', { route: '/ts/callosum/v1/*', status: '200' }),
      1,
    )
    assert.equal(valueOf(all, 'tsbff_http_requests_total', { route: 'other' }), 0)
    const lines = stack.logs.map((line) => JSON.parse(line) as Record<string, unknown>)
    const access = lines.filter((line) => line.event === 'http.request' && line.status === 200)
    assert.ok(access.some((line) => line.path === '/ts/api/rest/2.0/searchdata'))
    assert.ok(access.some((line) => line.path === '/ts/callosum/v1/tspublic/v1/session/info'))
    // Every upstream call was granted budget, and the histogram counted it.
    assert.ok(valueOf(all, 'tsbff_upstream_budget_wait_seconds_count') >= 3)
  })

  it('counts mapping reloads by outcome', async () => {
    writeFileSync(stack.mappingFile, 'default: { groups: [embed_viewers] }\n')
    assert.equal(stack.services.mapping.reload(), true)
    writeFileSync(stack.mappingFile, 'default: { groups: [embed_viewers] }\nrules: 3\n')
    assert.equal(stack.services.mapping.reload(), false)
    const all = await scrape(stack)
    assert.equal(valueOf(all, 'tsbff_mapping_reloads_total', { outcome: 'applied' }), 1)
    assert.equal(valueOf(all, 'tsbff_mapping_reloads_total', { outcome: 'rejected' }), 1)
  })
})

it('leaves /metrics off the main port once server.metricsPort is set', async () => {
  const stack = await startStack({ config: { server: { metricsPort: await freePort() } } })
  try {
    assertErrorShape(await stack.request.get('/metrics'), 404, 'NOT_FOUND')
  } finally {
    await stack.close()
  }
})

it('counts upstream budget refusals: a call that waited past queueTimeoutMs is 429', async () => {
  const stack = await startStack({
    config: {
      ...PROXY_CONFIG,
      thoughtspot: { maxConcurrency: 1, queueTimeoutMs: 50, timeoutMs: 120_000 },
    },
  })
  const headers = { Authorization: `Bearer ${await stack.jwt({ sub: 'budget@acme.com' })}` }
  // Mint first, so that the slow call below is the only upstream call in flight.
  assert.equal((await stack.request.get('/ts/auth/token').set(headers)).status, 200)
  stack.simulator.state.setFault({ mode: 'slow', delayMs: 120_000, paths: /searchdata/, times: 1 })
  const held = stack.request
    .post('/ts/api/rest/2.0/searchdata')
    .set(headers)
    .send({})
    .then(
      (response) => response.status,
      () => 'cut',
    )
  try {
    await waitFor(() => stack.simulator.state.callsTo('/searchdata').length === 1, {
      timeoutMs: 10_000,
      what: 'the slow call holds the only upstream slot',
    })
    const refused = await stack.request
      .post('/ts/api/rest/2.0/metadata/search')
      .set(headers)
      .send({})
    assertErrorShape(refused, 429, 'RATE_LIMITED')
    assert.ok(refused.headers['retry-after'])
    const all = await scrape(stack)
    assert.equal(
      valueOf(all, 'tsbff_upstream_budget_rejections_total', { reason: 'queue_timeout' }),
      1,
    )
    assert.equal(valueOf(all, 'tsbff_upstream_in_flight'), 1)
    assert.equal(stack.simulator.state.callsTo('/metadata/search').length, 0)
  } finally {
    await stack.close()
  }
  assert.equal(await held, 'cut')
})

it('counts Redis connection errors while Redis does not answer', async () => {
  const stack = await startStack({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` } })
  try {
    assertErrorShape(await stack.request.get('/ts/session'), 503, 'STORE_UNAVAILABLE')
    await waitFor(
      async () =>
        valueOf(await scrape(stack), 'tsbff_redis_errors_total', { kind: 'connection' }) > 0,
      { timeoutMs: 10_000, what: 'a failed connection attempt is counted' },
    )
  } finally {
    await stack.close()
  }
})

it('tells the error hook of a failed store command, which becomes STORE_UNAVAILABLE', async () => {
  const kinds: string[] = []
  const redis = connectRedis(`redis://127.0.0.1:${await freePort()}`, {
    prefix: 'metrics:',
    log: createLogger({ level: 'silent' }),
    onError: (_err, kind) => kinds.push(kind),
  })
  try {
    await assert.rejects(
      redis.run(() => redis.client.get('metrics:key')),
      (err: unknown) => err instanceof BffError && err.code === 'STORE_UNAVAILABLE',
    )
    assert.ok(kinds.includes('command'))
  } finally {
    await redis.close()
  }
})

describe('label cardinality', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({
      config: PROXY_CONFIG,
      mapping: 'rules:\n  - when: { claim: ok, equals: "yes" }\n    groups: [embed_viewers]\n',
    })
  })
  after(() => stack.close())

  /** One user's worth of traffic: mapped and not, object tokens, refusals, odd paths. */
  async function traffic(round: number, users: number): Promise<void> {
    for (let i = 0; i < users; i++) {
      const user = `card-${round}-${i}@acme.com`
      const mapped = { Authorization: `Bearer ${await stack.jwt({ sub: user, ok: 'yes' })}` }
      const unmapped = { Authorization: `Bearer ${await stack.jwt({ sub: `x${user}` })}` }
      const id = `0b7c${round}${i}-aaaa-4bbb-8ccc-${String(i).padStart(12, '0')}`
      await stack.request.get(`/ts/auth/token?objectId=${id}`).set(mapped)
      await stack.request.get('/ts/auth/token').set(unmapped)
      await stack.request.post('/ts/api/rest/2.0/searchdata').set(mapped).send({})
      await stack.request.get(`/ts/api/rest/2.0/metadata/${id}`).set(mapped)
      await stack.request.get(`/ts/callosum/v1/path-${round}-${i}/..%2f`).set(mapped)
      await stack.request.get(`/nowhere/${id}`)
    }
  }

  it('holds no usernames, paths or ids, and the series do not grow with more users', async () => {
    // The first round passes every per-subject audit allowance (the suppressed-refusal counter
    // gains its series then) and scrapes once (so /metrics has its own series).
    await traffic(1, 12)
    await scrape(stack)
    const first = await scrape(stack)
    await traffic(2, 20)
    const second = await scrape(stack)
    const series = (all: Sample[]) =>
      new Set(all.map((sample) => `${sample.name}${JSON.stringify(sample.labels)}`))
    assert.deepEqual([...series(second)].sort(), [...series(first)].sort())

    const allowed: Record<string, RegExp> = {
      method: /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/,
      route:
        /^(\/ts\/session|\/ts\/auth\/token|\/ts\/api\/rest\/2\.0\/\*|\/ts\/callosum\/v1\/\*|\/healthz|\/readyz|\/metrics|\/|\/demo\/\*|other)$/,
      status: /^(\d{3}|error|timeout)$/,
      purpose: /^(mint|revoke|login|logout|proxy)$/,
      api: /^(v2-full|v2-object|v2-custom|v1)$/,
      outcome: /^(ok|refused|error|applied|rejected|rotated)$/,
      le: /^([\d.]+|\+Inf)$/,
      code: new RegExp(`^(${ERROR_CODES.join('|')})$`),
      reason: /^(queue_timeout|store_error)$/,
      kind: /^(connection|command)$/,
      setting: /^(TS_SECRET_KEY|TS_ORG_SECRET_KEY|SESSION_SECRET|IDENTITY_HS256_SECRET)$/,
    }
    for (const sample of second) {
      for (const [label, value] of Object.entries(sample.labels)) {
        const rule = allowed[label]
        assert.ok(rule, `${sample.name}: unexpected label ${label}`)
        assert.match(value, rule, `${sample.name}{${label}="${value}"}`)
      }
    }
    const text = (await stack.request.get('/metrics')).text
    for (const leak of ['card-', '@acme.com', '0b7c', 'path-', 'nowhere', 'metadata/']) {
      assert.equal(text.includes(leak), false, `${leak} is in /metrics`)
    }
  })
})
