/**
 * docs/openapi.yaml against the real app. The document is validated as OpenAPI 3.1; then the real
 * BFF (startStack: real loader, real app, the ThoughtSpot simulator with its fault switches) is
 * driven to every status and error code the document lists, each response is checked against
 * the document (status, content type, body schema, required headers), and at the end every
 * documented (method, path, status, code) must have been seen: the document can drift neither
 * way.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type request from 'supertest'
import YAML from 'yaml'
import { ERROR_CODES, STATUSES_BY_CODE } from '../../src/errors.js'
import { CATALOGUE } from '../../src/simulator/fake-data.js'
import type { FaultOptions } from '../../src/simulator/state.js'
import { ROOT } from '../helpers/child-process.js'
import { errorCodesOf, OpenApi, operationsOf, type SeenResponse } from '../helpers/openapi.js'
import { startStack, type Stack } from '../helpers/start.js'
import { storesWithFailingSessions } from '../helpers/stores.js'

const DOCUMENT = join(ROOT, 'docs/openapi.yaml')
const APP_ORIGIN = 'https://app.example.com'
const LIVEBOARD = CATALOGUE.find((item) => item.type === 'LIVEBOARD')!.id

// No `default`: a user no rule matches is NOT_MAPPED.
const MAPPING = `
rules:
  - when: { claim: roles, includes: analyst }
    groups: [analysts]
  - when: { claim: roles, includes: viewer-only }
    groups: [embed_viewers]
    accessLevel: REPORT_BOOK_VIEW
  - when: { claim: status, equals: suspended }
    deny: true
`
const CONFIG = {
  server: { bodyLimit: '1kb', cors: { origins: [APP_ORIGIN] } },
  thoughtspot: { timeoutMs: 1000 },
  proxy: {
    allow: [
      { method: 'GET', path: '/api/rest/2.0/auth/session/user' },
      { method: 'POST', path: '/api/rest/2.0/metadata/search' },
      { method: 'GET', path: '/callosum/v1/tspublic/v1/session/info' },
      { method: 'POST', path: '/callosum/v1/tspublic/v1/pinboarddata' },
    ],
  },
}

/** One proxied call per family and method: an allowlisted one and one that is not. */
const PROXIED = [
  { method: 'GET', url: '/ts/api/rest/2.0/auth/session/user', refused: '/ts/api/rest/2.0/users' },
  {
    method: 'POST',
    url: '/ts/api/rest/2.0/metadata/search',
    refused: '/ts/api/rest/2.0/users/search',
  },
  {
    method: 'GET',
    url: '/ts/callosum/v1/tspublic/v1/session/info',
    refused: '/ts/callosum/v1/tspublic/v1/user/list',
  },
  {
    method: 'POST',
    url: `/ts/callosum/v1/tspublic/v1/pinboarddata?id=${LIVEBOARD}`,
    refused: '/ts/callosum/v1/tspublic/v1/user/list',
  },
] as const

const HTTPS = { 'X-Forwarded-Proto': 'https' }
const ANALYST = { roles: ['analyst'] }

let api: OpenApi
let stack: Stack
/** The same app with its session store down. */
let down: Stack
let userCount = 0

/** A new user each time, so no cached token or held session hides a mint. */
const newUser = (claims: Record<string, unknown> = ANALYST): Record<string, unknown> => ({
  sub: `openapi-${++userCount}@acme.com`,
  ...claims,
})

async function bearer(
  claims: Record<string, unknown> = newUser(),
): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await stack.jwt(claims)}` }
}

async function cookie(
  claims: Record<string, unknown> = newUser(),
): Promise<Record<string, string>> {
  return { ...HTTPS, Cookie: await stack.login(claims) }
}

interface Call {
  headers?: Record<string, string>
  body?: string
  contentType?: string
}

/** Sends a request to `target` (default: the stack) and checks the answer against the document. */
async function send(
  method: string,
  url: string,
  call: Call = {},
  target: ReturnType<typeof request> = stack.request,
): Promise<SeenResponse> {
  const verb = method.toLowerCase() as 'get' | 'post' | 'delete' | 'options'
  let pending = target[verb](url).set(call.headers ?? {})
  if (call.body !== undefined) {
    pending = pending.set('Content-Type', call.contentType ?? 'application/json').send(call.body)
  }
  const response = await pending
  api.check(method, url, response)
  return response
}

/** As `send`, and the status and error code are the expected ones. */
async function expect(
  method: string,
  url: string,
  status: number,
  code: string | undefined,
  call: Call = {},
): Promise<SeenResponse> {
  const response = await send(method, url, call)
  assert.equal(response.status, status, `${method} ${url}: ${response.text}`)
  if (code !== undefined)
    assert.equal((response.body as { error: { code: string } }).error.code, code)
  return response
}

/** The body an allowlisted proxied call sends. */
const bodyOf = (method: string, url: string): Call =>
  method === 'GET'
    ? {}
    : url.includes('callosum')
      ? { body: 'vizid=%5B%5D', contentType: 'application/x-www-form-urlencoded' }
      : { body: '{}' }

/**
 * Runs `run` against a second stack whose session store fails every call (as a Redis outage
 * would): same secrets and simulator, so cookies made on the healthy stack are read there too.
 */
async function withStoreDown(run: () => Promise<void>): Promise<void> {
  const healthy = stack
  stack = down
  try {
    await run()
  } finally {
    stack = healthy
  }
}

/** Runs `run` with a simulator fault switched on, then off again. */
async function withFault(fault: FaultOptions, run: () => Promise<void>): Promise<void> {
  stack.simulator.state.setFault(fault)
  try {
    await run()
  } finally {
    stack.simulator.state.clearFault()
  }
}

before(async () => {
  api = await OpenApi.load(DOCUMENT)
  stack = await startStack({ config: CONFIG, mapping: MAPPING })
  down = await startStack({
    config: CONFIG,
    mapping: MAPPING,
    simulator: stack.simulator,
    stores: storesWithFailingSessions,
  })
})
after(async () => {
  await down.close()
  await stack.close()
})

describe('docs/openapi.yaml, the document', () => {
  it('is checked by a validator that refuses a broken copy', async () => {
    const broken = YAML.parse(readFileSync(DOCUMENT, 'utf8'))
    delete broken.paths['/healthz'].get.responses['200'].description
    const dir = mkdtempSync(join(tmpdir(), 'tsbff-openapi-'))
    try {
      writeFileSync(join(dir, 'openapi.yaml'), YAML.stringify(broken))
      await assert.rejects(OpenApi.load(join(dir, 'openapi.yaml')), /is not valid OpenAPI/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('lists exactly the error codes of the error catalogue', () => {
    const codes = api.doc.components.schemas.Error?.properties?.error?.properties?.code?.enum
    assert.deepEqual([...(codes as string[])].sort(), [...ERROR_CODES].sort())
  })

  it('gives every error code the status of the catalogue, and every answer an x-request-id', () => {
    for (const [path, method, operation] of operationsOf(api.doc)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const what = `${method.toUpperCase()} ${path} ${status}`
        for (const code of errorCodesOf(response.content?.['application/json']?.schema) ?? []) {
          // The catalogue's statuses for the code (UPSTREAM_UNAVAILABLE: 502, or 503 for a page).
          const allowed = STATUSES_BY_CODE.get(code as (typeof ERROR_CODES)[number]) ?? []
          assert.ok(allowed.includes(Number(status)), `${what}: ${code} is ${allowed.join('/')}`)
        }
        // The metrics listener may be a port of its own, outside the request pipeline.
        if (path !== '/metrics')
          assert.ok(response.headers?.['x-request-id'], `${what}: x-request-id`)
      }
    }
  })
})

describe('the session routes', () => {
  it('POST /ts/session', async () => {
    const login = await expect('POST', '/ts/session', 200, undefined, {
      headers: { ...HTTPS, ...(await bearer()) },
    })
    assert.match([login.headers['set-cookie']].flat().join(), /;\s*Secure/i)
    await expect('POST', '/ts/session', 400, 'BAD_REQUEST', { headers: await bearer() })
    await expect('POST', '/ts/session', 401, 'UNAUTHENTICATED', { headers: HTTPS })
    await expect('POST', '/ts/session', 401, 'INVALID_TOKEN', {
      headers: { ...HTTPS, Authorization: 'Basic dXNlcjpwYXNz' },
    })
    await expect('POST', '/ts/session', 403, 'NOT_MAPPED', {
      headers: { ...HTTPS, ...(await bearer(newUser({}))) },
    })
    await expect('POST', '/ts/session', 403, 'DENIED', {
      headers: { ...HTTPS, ...(await bearer(newUser({ ...ANALYST, status: 'suspended' }))) },
    })
    const headers = { ...HTTPS, ...(await bearer()) }
    await withStoreDown(() =>
      expect('POST', '/ts/session', 503, 'STORE_UNAVAILABLE', { headers }).then(() => undefined),
    )
  })

  it('GET /ts/session', async () => {
    await expect('GET', '/ts/session', 200, undefined, { headers: await cookie() })
    await expect('GET', '/ts/session', 200, undefined, { headers: await bearer() })
    await expect('GET', '/ts/session', 401, 'UNAUTHENTICATED')
    await expect('GET', '/ts/session', 401, 'INVALID_TOKEN', {
      headers: { Authorization: 'Bearer not-a-jwt' },
    })
    await expect('GET', '/ts/session', 403, 'NOT_MAPPED', { headers: await bearer(newUser({})) })
    await expect('GET', '/ts/session', 403, 'DENIED', {
      headers: await bearer(newUser({ status: 'suspended' })),
    })
    const headers = await cookie()
    await withStoreDown(async () => {
      await expect('GET', '/ts/session', 503, 'STORE_UNAVAILABLE', { headers })
    })
  })

  it('DELETE /ts/session', async () => {
    const session = await cookie()
    await expect('DELETE', '/ts/session', 403, 'CSRF', { headers: session })
    await expect('DELETE', '/ts/session', 204, undefined, {
      headers: { ...session, 'X-CSRF': '1' },
    })
    await expect('DELETE', '/ts/session', 401, 'UNAUTHENTICATED')
    await expect('DELETE', '/ts/session', 401, 'INVALID_TOKEN', {
      headers: { Authorization: 'Bearer not-a-jwt' },
    })
    const headers = { ...(await cookie()), 'X-CSRF': '1' }
    await withStoreDown(async () => {
      await expect('DELETE', '/ts/session', 503, 'STORE_UNAVAILABLE', { headers })
    })
  })
})

describe('GET /ts/auth/token', () => {
  const url = '/ts/auth/token'

  it('answers the token as text/plain, or JSON when asked', async () => {
    const text = await expect('GET', url, 200, undefined, { headers: await bearer() })
    assert.match(String(text.headers['content-type']), /^text\/plain/)
    const json = await expect('GET', url, 200, undefined, {
      headers: { ...(await bearer()), Accept: 'application/json' },
    })
    assert.match(String(json.headers['content-type']), /^application\/json/)
  })

  it('refuses bad input, strangers, unmapped and denied users', async () => {
    await expect('GET', `${url}?objectId=not-a-guid`, 400, 'BAD_REQUEST', {
      headers: await bearer(),
    })
    await expect('GET', url, 401, 'UNAUTHENTICATED')
    await expect('GET', url, 401, 'INVALID_TOKEN', { headers: { Authorization: 'Bearer x.y.z' } })
    await expect('GET', url, 403, 'NOT_MAPPED', { headers: await bearer(newUser({})) })
    await expect('GET', url, 403, 'DENIED', {
      headers: await bearer(newUser({ roles: ['viewer-only'] })),
    })
  })

  it('answers ThoughtSpot failures while minting with 502, 503 and 504', async () => {
    const cases: [FaultOptions, number, string][] = [
      [{ mode: 'unauthorized' }, 502, 'UPSTREAM_AUTH_FAILED'],
      [{ mode: 'down' }, 502, 'UPSTREAM_UNAVAILABLE'],
      [{ mode: 'maintenance' }, 503, 'UPSTREAM_UNAVAILABLE'],
      [{ mode: 'slow', delayMs: 10_000 }, 504, 'UPSTREAM_TIMEOUT'],
    ]
    for (const [fault, status, code] of cases) {
      const headers = await bearer()
      await withFault(fault, async () => {
        await expect('GET', url, status, code, { headers })
      })
    }
    const headers = await cookie()
    await withStoreDown(async () => {
      await expect('GET', url, 503, 'STORE_UNAVAILABLE', { headers })
    })
  })
})

describe('the proxy', () => {
  for (const { method, url, refused } of PROXIED) {
    it(`${method} ${url.split('?')[0]!}: every documented answer`, async () => {
      await expect(method, url, 200, undefined, { headers: await bearer(), ...bodyOf(method, url) })
      const family = url.includes('callosum') ? '/ts/callosum/v1' : '/ts/api/rest/2.0'
      await expect(method, `${family}/a%2fb`, 400, 'BAD_PATH', { headers: await bearer() })
      await expect(method, url, 401, 'UNAUTHENTICATED', bodyOf(method, url))
      await expect(method, url, 401, 'INVALID_TOKEN', {
        headers: { Authorization: 'Bearer x.y.z' },
        ...bodyOf(method, url),
      })
      await expect(method, refused, 403, 'ROUTE_NOT_ALLOWED', { headers: await bearer() })
      await expect(method, url, 403, 'NOT_MAPPED', { headers: await bearer(newUser({})) })
      await expect(method, url, 403, 'DENIED', {
        headers: await bearer(newUser({ roles: ['viewer-only'] })),
      })
      if (method === 'POST') {
        await expect(method, url, 403, 'CSRF', { headers: await cookie(), ...bodyOf(method, url) })
        await expect(method, url, 413, 'PAYLOAD_TOO_LARGE', {
          headers: await bearer(),
          body: JSON.stringify({ pad: 'x'.repeat(2048) }),
        })
      }

      const failures: [FaultOptions, number, string][] = [
        [{ mode: 'unauthorized' }, 502, 'UPSTREAM_AUTH_FAILED'],
        [{ mode: 'down' }, 502, 'UPSTREAM_UNAVAILABLE'],
        [{ mode: 'maintenance' }, 503, 'UPSTREAM_UNAVAILABLE'],
        [{ mode: 'slow', delayMs: 10_000 }, 504, 'UPSTREAM_TIMEOUT'],
      ]
      for (const [fault, status, code] of failures) {
        const headers = await bearer()
        await withFault(fault, async () => {
          await expect(method, url, status, code, { headers, ...bodyOf(method, url) })
        })
      }
      const session = { ...(await cookie()), 'X-CSRF': '1' }
      await withStoreDown(async () => {
        await expect(method, url, 503, 'STORE_UNAVAILABLE', {
          headers: session,
          ...bodyOf(method, url),
        })
      })

      // Any other upstream answer passes through with its status (a credential warmed first).
      const headers = await bearer()
      await expect(method, url, 200, undefined, { headers, ...bodyOf(method, url) })
      const upstreamPath = new RegExp(url.split('?')[0]!.replace(/^\/ts/, ''))
      await withFault({ mode: 'error', paths: upstreamPath }, async () => {
        await expect(method, url, 500, undefined, { headers, ...bodyOf(method, url) })
      })
    })
  }
})

describe('CORS preflights, health, readiness, metrics, unknown paths', () => {
  it('answers preflights on every /ts route, with CORS headers only for allowed origins', async () => {
    for (const url of ['/ts/session', '/ts/auth/token', PROXIED[0].url, PROXIED[2].url]) {
      const preflight = (origin: string): Call => ({
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'x-csrf, content-type',
        },
      })
      const allowed = await expect('OPTIONS', url, 204, undefined, preflight(APP_ORIGIN))
      assert.equal(allowed.headers['access-control-allow-origin'], APP_ORIGIN)
      assert.equal(allowed.headers['access-control-allow-credentials'], 'true')
      const other = await expect('OPTIONS', url, 204, undefined, preflight('https://evil.example'))
      assert.equal(other.headers['access-control-allow-origin'], undefined)
    }
  })

  it('/healthz, /readyz (ready and not), /metrics and an unknown path', async () => {
    await expect('GET', '/healthz', 200, undefined)
    await expect('GET', '/readyz', 200, undefined)
    await withStoreDown(async () => {
      await expect('GET', '/readyz', 503, undefined)
    })
    // SPEC: /metrics is on the main port while server.metricsPort is null (the default).
    const metrics = await send('GET', '/metrics')
    assert.equal(metrics.status, 200)
    await expect('GET', '/nope', 404, 'NOT_FOUND')
    await expect('GET', '/ts/auth/token/more', 404, 'NOT_FOUND', { headers: await bearer() })
  })
})

describe('rate limits on every /ts route', () => {
  it('answers 429 RATE_LIMITED with Retry-After once the per-IP budget is spent', async () => {
    const limited = await startStack({
      config: { ...CONFIG, rateLimits: { perIpPerMinute: 1 } },
      mapping: MAPPING,
    })
    try {
      const target = limited.request
      await send('GET', '/healthz', {}, target) // not limited
      await target.get('/ts/session') // spends the one request of this minute
      const calls: [string, string][] = [
        ['POST', '/ts/session'],
        ['GET', '/ts/session'],
        ['DELETE', '/ts/session'],
        ['GET', '/ts/auth/token'],
        ...PROXIED.map(({ method, url }): [string, string] => [method, url]),
      ]
      for (const [method, url] of calls) {
        const response = await send(method, url, {}, target)
        assert.equal(response.status, 429, `${method} ${url}`)
        assert.equal((response.body as { error: { code: string } }).error.code, 'RATE_LIMITED')
      }
    } finally {
      await limited.close()
    }
  })
})

describe('coverage', () => {
  it('saw every documented (method, path, status, code), and documented every one it saw', () => {
    const documented = api.documented()
    const missing = [...documented].filter((key) => !api.seen.has(key))
    assert.deepEqual(missing, [], 'documented in docs/openapi.yaml but never answered')
    const extra = [...api.seen].filter((key) => !documented.has(key))
    assert.deepEqual(extra, [], 'answered but not documented')
  })
})
