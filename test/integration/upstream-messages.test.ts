/**
 * ThoughtSpot failures are logged with what points at the cause (issue 9): a mint refused for
 * the key says "check TS_SECRET_KEY / trusted auth enabled for this cluster or org"; an
 * unreachable ThoughtSpot names the host and the cause, on the BFF's own calls and on proxied
 * ones alike. Asserted on the log lines the real stack wrote and the calls ThoughtSpot received.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { describe, it } from 'node:test'
import { BAD_SECRET_HINT } from '../../src/upstream/fetch.js'
import { freePort } from '../helpers/child-process.js'
import { assertErrorShape, bearer, HTTPS } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

const WRONG_KEY = 'a-wrong-trusted-auth-key-9d8c7b6a'
/** The fields of a log line these tests read. */
interface LogLine {
  event?: string
  msg: string
  status?: number
  tsCode?: number
  hint?: string
  host?: string
  cause: string
  purpose?: string
  err: { type: string; message: string }
}
const eventOf = (stack: Stack, event: string): LogLine => {
  const line = stack.logs.map((text) => JSON.parse(text) as LogLine).find((l) => l.event === event)
  assert.ok(line, `a "${event}" line was logged`)
  return line
}

async function mintThrough(stack: Stack) {
  return stack.request
    .get('/ts/auth/token')
    .set(bearer(await stack.jwt({ sub: 'msg-user@acme.com', email: 'msg-user@acme.com' })))
}

/** A stand-in for a cluster where trusted authentication is off: ThoughtSpot's 403 / 10023. */
async function trustedAuthOff(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume()
    res.writeHead(403, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        error: {
          message: {
            code: 10023,
            incident_id_guid: 'b0f1c2d3-0000-4000-8000-000000000000',
            debug: 'Trusted authentication is not enabled for this cluster or org',
          },
        },
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return {
    server,
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
  }
}

describe('a refused mint points at the key and trusted auth', () => {
  it('a wrong secret key: the simulator’s 401 / 10097 is logged with the hint', async () => {
    const stack = await startStack({ env: { TS_SECRET_KEY: WRONG_KEY } })
    try {
      assertErrorShape(await mintThrough(stack), 502, 'UPSTREAM_AUTH_FAILED')
      const [mint] = stack.simulator.state.callsTo('/api/rest/2.0/auth/token/full')
      assert.equal(mint?.status, 401)
      const refused = eventOf(stack, 'upstream.refused')
      assert.equal(refused.status, 401)
      assert.equal(refused.tsCode, 10097)
      assert.equal(refused.hint, BAD_SECRET_HINT)
      assert.equal(
        refused.msg,
        'ThoughtSpot refused the mint call (HTTP 401, code 10097): check TS_SECRET_KEY / trusted auth enabled for this cluster or org',
      )
      const failed = eventOf(stack, 'request.failed')
      assert.equal(failed.err.type, 'UpstreamRefusal')
      assert.match(failed.err.message, /check TS_SECRET_KEY/)
      assert.ok(!stack.logs.join('').includes(WRONG_KEY), 'the key never reaches a log line')
    } finally {
      await stack.close()
    }
  })

  it('trusted auth off for the cluster or org (403 / 10023): the same hint', async () => {
    const off = await trustedAuthOff()
    const stack = await startStack({ env: { TS_HOST: off.url } })
    try {
      assertErrorShape(await mintThrough(stack), 502, 'UPSTREAM_AUTH_FAILED')
      const refused = eventOf(stack, 'upstream.refused')
      assert.equal(refused.status, 403)
      assert.equal(refused.tsCode, 10023)
      assert.match(
        refused.msg,
        /\(HTTP 403, code 10023\): check TS_SECRET_KEY \/ trusted auth enabled for this cluster or org$/,
      )
    } finally {
      await stack.close()
      await new Promise((resolve) => off.server.close(resolve))
    }
  })

  it('REST v1 answers 500 when trusted auth is off: the hint says so', async () => {
    const stack = await startStack({ env: { TS_AUTH_API: 'v1' } })
    try {
      stack.simulator.state.setFault({ mode: 'error', paths: /session\/auth\/token$/ })
      assertErrorShape(await mintThrough(stack), 502, 'UPSTREAM_AUTH_FAILED')
      const refused = eventOf(stack, 'upstream.refused')
      assert.equal(refused.status, 500)
      assert.match(
        refused.hint ?? '',
        /^check TS_SECRET_KEY \/ trusted auth enabled .*REST v1 answers 500/,
      )
    } finally {
      await stack.close()
    }
  })

  it('a refusal that is not the key’s fault carries no hint', async () => {
    const stack = await startStack()
    try {
      stack.simulator.state.setFault({ mode: 'error', paths: /auth\/token\/full$/ })
      assertErrorShape(await mintThrough(stack), 502, 'UPSTREAM_AUTH_FAILED')
      const refused = eventOf(stack, 'upstream.refused')
      assert.equal(refused.status, 500)
      assert.equal(refused.hint, undefined)
      assert.equal(refused.msg, 'ThoughtSpot refused the mint call (HTTP 500, code 10038)')
    } finally {
      await stack.close()
    }
  })
})

describe('an unreachable ThoughtSpot is logged with its host and the cause', () => {
  it('on a mint (the BFF’s own call)', async () => {
    const port = await freePort()
    const stack = await startStack({ env: { TS_HOST: `http://127.0.0.1:${port}` } })
    try {
      assertErrorShape(await mintThrough(stack), 502, 'UPSTREAM_UNAVAILABLE')
      const failed = eventOf(stack, 'upstream.failed')
      assert.equal(failed.host, `127.0.0.1:${port}`)
      assert.match(failed.cause, /^ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+$/)
      assert.equal(
        failed.msg,
        `ThoughtSpot at 127.0.0.1:${port} is unreachable (mint call): ${failed.cause}`,
      )
    } finally {
      await stack.close()
    }
  })

  it('on a proxied call', async () => {
    const stack = await startStack()
    try {
      const cookie = await stack.login({ sub: 'proxy-user@acme.com' })
      stack.simulator.state.setFault({ mode: 'down', paths: /searchdata$/ })
      const response = await stack.request
        .post('/ts/api/rest/2.0/searchdata')
        .set(HTTPS)
        .set('Cookie', cookie)
        .set('X-CSRF', '1')
        .send({ query_string: '[sales]', logical_table_identifier: 'x' })
      assertErrorShape(response, 502, 'UPSTREAM_UNAVAILABLE')
      const host = new URL(stack.simulator.url).host
      const failed = eventOf(stack, 'upstream.failed')
      assert.equal(failed.purpose, 'proxy')
      assert.equal(failed.host, host)
      assert.ok(failed.cause.length > 0)
      assert.equal(
        failed.msg,
        `ThoughtSpot at ${host} is unreachable (proxied call): ${failed.cause}`,
      )
    } finally {
      await stack.close()
    }
  })
})
