/**
 * The REST v2 proxy end to end, asserting on what reached the simulator: the user's own
 * bearer token, byte-identical bodies, refused routes and bad paths never forwarded, one re-mint
 * and one retry on 401, and every failure answering its error code.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { CATALOGUE } from '../../src/simulator/server.js'
import type request from 'supertest'
import { rawRequest } from '../helpers/raw-request.js'
import { HTTPS } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

const TABLE = CATALOGUE.find((item) => item.type === 'LOGICAL_TABLE')!.id
const LIVEBOARD = CATALOGUE.find((item) => item.type === 'LIVEBOARD')!.id

const ALLOW = [
  { method: 'GET', path: '/api/rest/2.0/auth/session/user' },
  { method: 'POST', path: '/api/rest/2.0/searchdata' },
  { method: 'POST', path: '/api/rest/2.0/metadata/search' },
  { method: 'POST', path: '/api/rest/2.0/report/*' },
  { method: 'POST', path: '/api/rest/2.0/metadata/*/data', groups: ['analysts'] },
  { method: '*', path: '/api/rest/2.0/**' },
]

let stack: Stack
let cookie: string
const USER = { sub: 'pat@acme.com', roles: ['analyst'] }

before(async () => {
  stack = await startStack({
    config: {
      proxy: { allow: ALLOW },
      server: { bodyLimit: '64kb' },
      thoughtspot: { timeoutMs: 400 },
    },
  })
  cookie = await stack.login(USER)
})
after(() => stack.close())
beforeEach(() => {
  stack.simulator.state.clearFault()
  stack.simulator.state.clearCalls()
})

const asUser = (path: string) =>
  stack.request.post(path).set(HTTPS).set('Cookie', cookie).set('X-CSRF', '1')

describe('forwarding', () => {
  it('forwards with the user’s own ThoughtSpot token, the JSON body byte for byte and the query unchanged', async () => {
    const body = `{"logical_table_identifier":"${TABLE}","query_string":"[Revenue] [Region]",  "record_size": 5}`
    const response = await asUser('/ts/api/rest/2.0/searchdata?a=1&b=%20x&b=2')
      .set('Content-Type', 'application/json')
      .send(body)
    assert.equal(response.status, 200, response.text)
    assert.ok(Array.isArray(response.body.contents))
    const [call] = stack.simulator.state.callsTo('/api/rest/2.0/searchdata')
    assert.ok(call)
    assert.equal(call.query, 'a=1&b=%20x&b=2')
    assert.equal(call.body.toString('utf8'), body)
    const bearer = /^Bearer (.+)$/.exec(String(call.headers.authorization))?.[1] ?? ''
    assert.equal(stack.simulator.state.tokens.get(bearer)?.username, 'pat@acme.com')
    assert.equal(call.headers.cookie, undefined)
  })

  it('streams a binary report back byte-identical', async () => {
    const body = JSON.stringify({ metadata_identifier: LIVEBOARD, file_format: 'PDF' })
    const response = await asUser('/ts/api/rest/2.0/report/liveboard')
      .set('Content-Type', 'application/json')
      .send(body)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => done(null, Buffer.concat(chunks)))
      })
    assert.equal(response.status, 200)
    assert.equal(response.headers['content-type'], 'application/octet-stream')
    const token = /^Bearer (.+)$/.exec(
      String(stack.simulator.state.callsTo('/report/liveboard')[0]?.headers.authorization),
    )?.[1]
    const direct = await fetch(`${stack.simulator.url}/api/rest/2.0/report/liveboard`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    })
    const expected = Buffer.from(await direct.arrayBuffer())
    assert.ok(expected.length >= 64 * 1024)
    assert.ok((response.body as Buffer).equals(expected), 'the export arrived byte-identical')
  })

  it('works with a bearer app JWT (no cookie, no CSRF header needed) and a GET', async () => {
    const appJwt = await stack.jwt(USER)
    const response = await stack.request
      .get('/ts/api/rest/2.0/auth/session/user')
      .set('Authorization', `Bearer ${appJwt}`)
    assert.equal(response.status, 200, response.text)
    assert.equal(response.body.name, 'pat@acme.com')
    const [call] = stack.simulator.state.callsTo('/auth/session/user')
    const forwarded = /^Bearer (.+)$/.exec(String(call?.headers.authorization))?.[1] ?? ''
    assert.notEqual(forwarded, appJwt, 'the app JWT is never forwarded')
    assert.equal(stack.simulator.state.tokens.get(forwarded)?.username, 'pat@acme.com')
  })

  it('passes other upstream answers through with their status and body', async () => {
    const response = await asUser('/ts/api/rest/2.0/searchdata')
      .set('Content-Type', 'application/json')
      .send('{}')
    assert.equal(response.status, 400)
    assert.ok(response.body.error, 'ThoughtSpot’s own error body')
    const missing = await asUser('/ts/api/rest/2.0/no/such/endpoint').send('{}')
    assert.equal(missing.status, 404)
  })
})

describe('refusals that never reach ThoughtSpot', () => {
  const refused: Array<[string, string, number, string]> = [
    ['POST', '/ts/api/rest/2.0/auth/token/full', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/api/rest/2.0/auth/token/object', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/api/rest/2.0/auth/token/custom', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/api/rest/2.0/auth/token/revoke', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/api/rest/2.0/AUTH/TOKEN/full', 403, 'ROUTE_NOT_ALLOWED'],
    ['GET', '/ts/api/rest/2.0/auth/session/token', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/api/rest/2.0/auth/configure', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/api/rest/2.0/auth/search', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/callosum/v1/tspublic/v1/session/auth/token', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/callosum/v1/tspublic/v1/user/list', 403, 'ROUTE_NOT_ALLOWED'],
    ['POST', '/ts/api/rest/2.0/auth/token/full%2F', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/../2.0/auth/token/full', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/%2e%2e/%2e%2e/admin', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/%2E%2e/x', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/.%2e/x', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/%252e%252e/x', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/..%2fauth/token/full', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/..%5cauth', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/..\\auth', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/%c0%ae%c0%ae/x', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/auth/session/user/.', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0//auth/session/user', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/auth/session/user/', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/auth;x=1/session/user', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/auth/session/user%00', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/auth/session/user%0d%0aX-Evil:%201', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/auth/%zz', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/auth/%', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/2.0/auth/session/user%3f', 400, 'BAD_PATH'],
    ['GET', '/ts/%2e%2e/healthz', 400, 'BAD_PATH'],
    ['GET', '/ts/api/rest/3.0/anything', 404, 'NOT_FOUND'],
  ]
  for (const [method, path, status, code] of refused) {
    it(`${method} ${path} → ${status} ${code}`, async () => {
      const response = await rawRequest(
        stack.url,
        method,
        path,
        { ...HTTPS, cookie, 'x-csrf': '1', 'content-type': 'application/json' },
        '{}',
      )
      assert.equal(response.status, status, response.body.toString())
      const body = response.json() as { error: { code: string; requestId: string } }
      assert.equal(body.error.code, code)
      assert.ok(body.error.requestId)
      assert.equal(stack.simulator.state.calls.length, 0, 'nothing reached ThoughtSpot')
    })
  }

  it('limits a group-restricted rule to users with that group', async () => {
    const grouped = await startStack({
      config: { proxy: { allow: ALLOW.filter((rule) => rule.path !== '/api/rest/2.0/**') } },
    })
    try {
      const body = JSON.stringify({ metadata_identifier: LIVEBOARD })
      const call = async (claims: Record<string, unknown>) =>
        grouped.request
          .post('/ts/api/rest/2.0/metadata/liveboard/data')
          .set('Authorization', `Bearer ${await grouped.jwt(claims)}`)
          .set('Content-Type', 'application/json')
          .send(body)
      const refusedCall = await call({ sub: 'viewer@acme.com' })
      assert.equal(refusedCall.status, 403)
      assert.equal(refusedCall.body.error.code, 'ROUTE_NOT_ALLOWED')
      assert.equal(grouped.simulator.state.calls.length, 0)
      const allowed = await call(USER)
      assert.equal(allowed.status, 200, allowed.text)
      assert.equal(grouped.simulator.state.callsTo('/metadata/liveboard/data').length, 1)
    } finally {
      await grouped.close()
    }
  })

  it('refuses REPORT_BOOK_VIEW users on every proxied call', async () => {
    const limited = await stack.login({ sub: 'rbv@acme.com', roles: ['viewer-only'] })
    const response = await stack.request
      .get('/ts/api/rest/2.0/auth/session/user')
      .set(HTTPS)
      .set('Cookie', limited)
    assert.equal(response.status, 403)
    assert.equal(response.body.error.code, 'DENIED')
    assert.equal(stack.simulator.state.calls.length, 0)
  })

  it('refuses a body over the limit with 413 and forwards nothing', async () => {
    const response = await asUser('/ts/api/rest/2.0/searchdata')
      .set('Content-Type', 'application/json')
      .send(`{"x":"${'a'.repeat(70 * 1024)}"}`)
    assert.equal(response.status, 413)
    assert.equal(response.body.error.code, 'PAYLOAD_TOO_LARGE')
    assert.equal(stack.simulator.state.callsTo('/searchdata').length, 0)
  })

  it('refuses without credentials before anything else', async () => {
    const response = await stack.request.post('/ts/api/rest/2.0/searchdata').send('{}')
    assert.equal(response.status, 401)
    assert.equal(stack.simulator.state.calls.length, 0)
  })
})

describe('upstream 401: drop the token, mint once, resend once', () => {
  it('re-mints and resends the same body after the token was revoked upstream', async () => {
    const body = `{"logical_table_identifier":"${TABLE}","query_string":"[Revenue]"}`
    assert.equal(
      (
        await asUser('/ts/api/rest/2.0/searchdata')
          .set('Content-Type', 'application/json')
          .send(body)
      ).status,
      200,
    )
    stack.simulator.state.revokeTokensOf('pat@acme.com')
    stack.simulator.state.clearCalls()
    const response = await asUser('/ts/api/rest/2.0/searchdata')
      .set('Content-Type', 'application/json')
      .send(body)
    assert.equal(response.status, 200, response.text)
    const paths = stack.simulator.state.calls.map((call) => `${call.path} ${call.status}`)
    assert.deepEqual(paths, [
      '/api/rest/2.0/searchdata 401',
      '/api/rest/2.0/auth/token/full 200',
      '/api/rest/2.0/searchdata 200',
    ])
    const [first, , second] = stack.simulator.state.calls
    assert.ok(first?.body.equals(second!.body), 'the buffered body was resent')
    assert.notEqual(first?.headers.authorization, second?.headers.authorization)
  })

  it('answers 502 UPSTREAM_AUTH_FAILED (not a hang) when the re-mint after a 401 is refused', async () => {
    assert.equal(
      (
        await asUser('/ts/api/rest/2.0/metadata/search')
          .set('Content-Type', 'application/json')
          .send('{}')
      ).status,
      200,
    )
    stack.simulator.state.revokeTokensOf('pat@acme.com')
    stack.simulator.state.setFault({ mode: 'unauthorized', paths: /auth\/token\/full/ })
    stack.simulator.state.clearCalls()
    const response = await asUser('/ts/api/rest/2.0/metadata/search')
      .set('Content-Type', 'application/json')
      .send('{}')
    assert.equal(response.status, 502)
    assert.equal(response.body.error.code, 'UPSTREAM_AUTH_FAILED')
    assert.deepEqual(
      stack.simulator.state.calls.map((call) => `${call.path} ${call.status}`),
      ['/api/rest/2.0/metadata/search 401', '/api/rest/2.0/auth/token/full 401'],
    )
  })

  it('answers 502 UPSTREAM_AUTH_FAILED on a second 401, after exactly one re-mint', async () => {
    await asUser('/ts/api/rest/2.0/metadata/search')
      .set('Content-Type', 'application/json')
      .send('{}') // warm the token
    stack.simulator.state.clearCalls()
    stack.simulator.state.setFault({ mode: 'unauthorized', paths: /searchdata/ })
    const response = await asUser('/ts/api/rest/2.0/searchdata')
      .set('Content-Type', 'application/json')
      .send('{}')
    assert.equal(response.status, 502)
    assert.equal(response.body.error.code, 'UPSTREAM_AUTH_FAILED')
    assert.equal(stack.simulator.state.callsTo('/searchdata').length, 2)
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 1)
  })
})

describe('upstream failures', () => {
  const cases: Array<
    [string, Parameters<Stack['simulator']['state']['setFault']>[0], number, string]
  > = [
    ['down', { mode: 'down', paths: /metadata\/search/ }, 502, 'UPSTREAM_UNAVAILABLE'],
    ['slow', { mode: 'slow', delayMs: 5000, paths: /metadata\/search/ }, 504, 'UPSTREAM_TIMEOUT'],
    [
      '429',
      { mode: 'rateLimited', retryAfterSeconds: 9, paths: /metadata\/search/ },
      429,
      'RATE_LIMITED',
    ],
    [
      'maintenance page',
      { mode: 'maintenance', paths: /metadata\/search/ },
      503,
      'UPSTREAM_UNAVAILABLE',
    ],
  ]
  for (const [name, fault, status, code] of cases) {
    it(`ThoughtSpot ${name} → ${status} ${code}`, async () => {
      await asUser('/ts/api/rest/2.0/metadata/search')
        .set('Content-Type', 'application/json')
        .send('{}') // warm the token
      stack.simulator.state.setFault(fault)
      const response = await asUser('/ts/api/rest/2.0/metadata/search')
        .set('Content-Type', 'application/json')
        .send('{}')
      assert.equal(response.status, status, response.text)
      assert.equal(response.body.error.code, code)
      if (code === 'RATE_LIMITED') assert.equal(response.headers['retry-after'], '9')
      assert.doesNotMatch(response.text, /Site Maintenance|<html/i)
      stack.simulator.state.clearFault()
      const healthy = await asUser('/ts/api/rest/2.0/metadata/search')
        .set('Content-Type', 'application/json')
        .send('{}')
      assert.equal(healthy.status, 200, 'the BFF recovers at once')
    })
  }

  it('passes an upstream 500 through with a scrubbed body', async () => {
    stack.simulator.state.setFault({ mode: 'error', paths: /metadata\/search/ })
    const response = await asUser('/ts/api/rest/2.0/metadata/search')
      .set('Content-Type', 'application/json')
      .send('{}')
    assert.equal(response.status, 500)
    assert.ok(response.body.error)
    const token = [...stack.simulator.state.tokens.values()].find(
      (t) => t.username === 'pat@acme.com',
    )!.token
    assert.equal(response.text.includes(token), false)
  })
})

describe('the upstream budget', () => {
  /**
   * A stack with one upstream slot, a warmed token, and a slow next metadata/search holding the
   * slot for `slowMs`; `run` gets the stack, the headers and a function that starts a call now.
   */
  async function withOneSlot(
    queueTimeoutMs: number,
    slowMs: number,
    run: (tight: Stack, send: (path: string) => Promise<request.Response>) => Promise<void>,
  ): Promise<void> {
    const tight = await startStack({
      config: {
        proxy: { allow: ALLOW },
        thoughtspot: { maxConcurrency: 1, queueTimeoutMs, timeoutMs: 5000 },
      },
    })
    try {
      const headers = {
        Authorization: `Bearer ${await tight.jwt(USER)}`,
        'Content-Type': 'application/json',
      }
      // supertest sends on .then(): wrapping it starts the call at once.
      const send = (path: string) =>
        tight.request
          .post(path)
          .set(headers)
          .send('{}')
          .then((r) => r)
      assert.equal((await send('/ts/api/rest/2.0/metadata/search')).status, 200)
      tight.simulator.state.clearCalls()
      tight.simulator.state.setFault({
        mode: 'slow',
        delayMs: slowMs,
        paths: /metadata\/search/,
        times: 1,
      })
      await run(tight, send)
    } finally {
      await tight.close()
    }
  }

  it('never forwards a call whose browser gave up while it waited for budget', () =>
    withOneSlot(5000, 800, async (tight, send) => {
      const slow = send('/ts/api/rest/2.0/metadata/search')
      await new Promise((resolve) => setTimeout(resolve, 100))
      // This one queues behind the slow call, then its client disconnects.
      const abandoned = tight.request
        .post('/ts/api/rest/2.0/searchdata')
        .set('Authorization', `Bearer ${await tight.jwt(USER)}`)
        .send('{}')
        .timeout(200)
      await assert.rejects(abandoned)
      assert.equal((await slow).status, 200)
      // The slot is free again and the abandoned call was dropped, not sent.
      assert.equal((await send('/ts/api/rest/2.0/metadata/search')).status, 200)
      assert.equal(tight.simulator.state.callsTo('/searchdata').length, 0)
    }))

  it('queues briefly, then answers 429 RATE_LIMITED rather than overrunning ThoughtSpot', () =>
    withOneSlot(100, 1500, async (tight, send) => {
      const slow = send('/ts/api/rest/2.0/metadata/search')
      await new Promise((resolve) => setTimeout(resolve, 200))
      const refused = await send('/ts/api/rest/2.0/metadata/search')
      assert.equal((await slow).status, 200)
      assert.equal(refused.status, 429)
      assert.equal(refused.body.error.code, 'RATE_LIMITED')
      assert.ok(Number(refused.headers['retry-after']) >= 1)
      const reached = tight.simulator.state.callsTo('/metadata/search').length
      assert.equal(reached, 1, 'the refused call never reached ThoughtSpot')
    }))
})
