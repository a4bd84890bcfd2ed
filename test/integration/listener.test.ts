/**
 * The listener and the body limit over raw sockets, where a test can send what browsers never
 * do: a Content-Length far above the limit with a trickle of bytes, an endless chunked body, a
 * head that never ends, an absolute-form request target (issue 8 §1, §5).
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { rawRequest } from '../helpers/raw-request.js'
import { firstHeader, firstJsonBody, openRaw, type RawExchange } from '../helpers/raw-socket.js'
import { startStack, type Stack } from '../helpers/start.js'

const LIMIT = 64 * 1024
const SEARCH = '/ts/api/rest/2.0/searchdata'
const SEARCH_BODY = JSON.stringify({ logical_table_identifier: 'retail-sales', query_string: 'x' })
/** What a test that would otherwise hang (the code before the fix) gets before it fails. */
const HANG_GUARD = { timeout: 30_000 }

let stack: Stack
let jwt: string
before(async () => {
  stack = await startStack({ config: { server: { bodyLimit: LIMIT, maxHeaderBytes: 12 * 1024 } } })
  jwt = await stack.jwt({ sub: 'alice@acme.com' })
})
after(() => stack.close())
beforeEach(() => stack.simulator.state.clearCalls())

function head(method: string, target: string, headers: Record<string, string>): string {
  const lines = Object.entries({ Host: new URL(stack.url).host, ...headers }).map(
    ([name, value]) => `${name}: ${value}`,
  )
  return `${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
}

function assertTooLarge(exchange: RawExchange): void {
  assert.equal(exchange.status, 413, exchange.text.slice(0, 200))
  assert.equal(firstHeader(exchange.text, 'connection'), 'close')
  assert.equal(
    (firstJsonBody(exchange.text) as { error: { code: string } }).error.code,
    'PAYLOAD_TOO_LARGE',
  )
  assert.ok(exchange.closedByServer, 'the server closed the connection')
}

/** What Node's parser refuses still gets the §7 body, with the response's own request id. */
function assertParserRefusal(exchange: RawExchange): void {
  assert.ok(exchange.closedByServer, 'the server closed the connection')
  const body = firstJsonBody(exchange.text) as {
    error: { code: string; message: string; requestId: string }
  }
  assert.deepEqual(Object.keys(body), ['error'])
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'requestId'])
  assert.equal(body.error.code, 'BAD_REQUEST')
  assert.ok(body.error.message.length > 0)
  assert.equal(body.error.requestId, firstHeader(exchange.text, 'x-request-id'))
  assert.equal(firstHeader(exchange.text, 'connection'), 'close')
}

describe('a declared Content-Length above server.bodyLimit', () => {
  for (const auth of ['bearer', 'none'] as const) {
    it(
      `is 413 at once and closed, without the body being sent (${auth} auth)`,
      HANG_GUARD,
      async () => {
        const conn = await openRaw(stack.url)
        const headers: Record<string, string> = {
          'Content-Type': 'application/json',
          'Content-Length': String(1024 * 1024 * 1024),
        }
        if (auth === 'bearer') headers.Authorization = `Bearer ${jwt}`
        // A few bytes of the gigabyte, then nothing: the answer must not wait for the rest.
        await conn.write(head('POST', SEARCH, headers) + '{"a":')
        const exchange = await conn.closed
        assertTooLarge(exchange)
        assert.equal(stack.simulator.state.calls.length, 0, 'nothing reached ThoughtSpot')
      },
    )
  }

  it(
    'with Expect: 100-continue gets no 100 Continue, only the 413, and is closed',
    HANG_GUARD,
    async () => {
      const conn = await openRaw(stack.url)
      await conn.write(
        head('POST', SEARCH, {
          Authorization: `Bearer ${jwt}`,
          'Content-Type': 'application/json',
          'Content-Length': String(LIMIT + 1),
          Expect: '100-continue',
        }),
      )
      const exchange = await conn.closed
      assert.doesNotMatch(exchange.text, /^HTTP\/1\.1 100/, 'no invitation to send the body')
      assertTooLarge(exchange)
      assert.equal(stack.simulator.state.calls.length, 0, 'nothing reached ThoughtSpot')
    },
  )

  it(
    'a body within the limit with Expect: 100-continue is invited, then forwarded',
    HANG_GUARD,
    async () => {
      const conn = await openRaw(stack.url)
      await conn.write(
        head('POST', SEARCH, {
          Authorization: `Bearer ${jwt}`,
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(SEARCH_BODY)),
          Expect: '100-continue',
          Connection: 'close',
        }),
      )
      while (!conn.answered()) await new Promise((resolve) => setTimeout(resolve, 5))
      await conn.write(SEARCH_BODY)
      const exchange = await conn.closed
      assert.match(exchange.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /)
      assert.equal(stack.simulator.state.callsTo('/searchdata').length, 1)
    },
  )

  it('a body at the limit still passes', async () => {
    const body = JSON.stringify({
      logical_table_identifier: 'retail-sales',
      pad: 'x'.repeat(LIMIT - 60),
    })
    assert.ok(body.length <= LIMIT)
    const response = await rawRequest(
      stack.url,
      'POST',
      SEARCH,
      {
        Authorization: `Bearer ${jwt}`,
        'Content-Type': 'application/json',
      },
      body,
    )
    assert.notEqual(response.status, 413)
    assert.equal(stack.simulator.state.callsTo('/searchdata').length, 1)
  })
})

describe('a chunked body above server.bodyLimit', () => {
  it(
    'is 413 while the client is still sending, and the connection is closed',
    HANG_GUARD,
    async () => {
      const conn = await openRaw(stack.url)
      await conn.write(
        head('POST', SEARCH, {
          Authorization: `Bearer ${jwt}`,
          'Content-Type': 'application/json',
          'Transfer-Encoding': 'chunked',
        }),
      )
      // Far more than socket buffers hold: a server that drains the body would take it all.
      const cap = 64 * 1024 * 1024
      const piece = 'x'.repeat(16 * 1024)
      const chunk = `${piece.length.toString(16)}\r\n${piece}\r\n`
      let sent = 0
      while (!conn.answered() && sent < cap) {
        if (!(await conn.write(chunk))) break
        sent += piece.length
      }
      const finished = sent >= cap
      if (finished) await conn.write('0\r\n\r\n')
      const exchange = await conn.closed
      assert.equal(finished, false, `the answer came only after the whole ${sent}-byte body`)
      assertTooLarge(exchange)
      assert.equal(stack.simulator.state.calls.length, 0, 'nothing reached ThoughtSpot')
    },
  )

  it('a gzip body that inflates above the limit is 413 (decompression bomb)', async () => {
    const { gzipSync } = await import('node:zlib')
    const bomb = gzipSync(Buffer.alloc(LIMIT * 16, 0x20))
    assert.ok(bomb.length < LIMIT)
    const response = await rawRequest(
      stack.url,
      'POST',
      SEARCH,
      {
        Authorization: `Bearer ${jwt}`,
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip',
      },
      bomb,
    )
    assert.equal(response.status, 413)
    assert.equal(stack.simulator.state.calls.length, 0)
  })

  it('a gzip body within the limit is forwarded decoded', async () => {
    const { gzipSync } = await import('node:zlib')
    const response = await rawRequest(
      stack.url,
      'POST',
      SEARCH,
      {
        Authorization: `Bearer ${jwt}`,
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip',
      },
      gzipSync(SEARCH_BODY),
    )
    assert.equal(response.status, 200, response.body.toString())
    const [call] = stack.simulator.state.callsTo('/searchdata')
    assert.equal(call?.headers['content-encoding'], undefined)
    assert.deepEqual(call?.json, JSON.parse(SEARCH_BODY))
  })

  it('an unknown Content-Encoding is 400 BAD_REQUEST, not forwarded', async () => {
    const response = await rawRequest(
      stack.url,
      'POST',
      SEARCH,
      {
        Authorization: `Bearer ${jwt}`,
        'Content-Type': 'application/json',
        'Content-Encoding': 'compress',
      },
      SEARCH_BODY,
    )
    assert.equal(response.status, 400)
    assert.equal((response.json() as { error: { code: string } }).error.code, 'BAD_REQUEST')
    assert.equal(stack.simulator.state.calls.length, 0)
  })
})

describe('request heads', () => {
  it('a head above server.maxHeaderBytes (below Node’s own 16 KiB) is refused with 431', async () => {
    const conn = await openRaw(stack.url)
    await conn.write(head('GET', '/ts/session', { 'X-Padding': 'p'.repeat(13 * 1024) }))
    const exchange = await conn.closed
    assert.equal(exchange.status, 431)
    assertParserRefusal(exchange)
  })

  it('bytes that are not HTTP get a 400 in the JSON error shape, and the connection closes', async () => {
    for (const garbage of [
      'HELLO\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bare-CR: a\rb\r\n\r\n',
      'POST /ts/session HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    ]) {
      const conn = await openRaw(stack.url)
      await conn.write(garbage)
      const exchange = await conn.closed
      assert.equal(exchange.status, 400, JSON.stringify(garbage))
      assertParserRefusal(exchange)
    }
    assert.equal(stack.simulator.state.calls.length, 0)
  })

  it('a head below server.maxHeaderBytes passes', async () => {
    const response = await rawRequest(stack.url, 'GET', '/ts/session', {
      Authorization: `Bearer ${jwt}`,
      'X-Padding': 'p'.repeat(6 * 1024),
    })
    assert.equal(response.status, 200)
  })

  it('many small headers do not push out one a proxy appended last', async () => {
    // Node's default keeps only the first 2000 header lines and drops the rest without a word.
    const conn = await openRaw(stack.url)
    const junk = 'a:\r\n'.repeat(2100)
    await conn.write(
      `GET /ts/session HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${junk}` +
        `Authorization: Bearer ${jwt}\r\n\r\n`,
    )
    const exchange = await conn.closed
    assert.equal(exchange.status, 200, exchange.text.slice(0, 200))
  })
})

describe('absolute-form request targets (RFC 9112 §3.2.2)', () => {
  it('POST http://host/ts/api/... is proxied as its path', async () => {
    const target = `${stack.url}${SEARCH}?x=1`
    const response = await rawRequest(
      stack.url,
      'POST',
      target,
      {
        Authorization: `Bearer ${jwt}`,
        'Content-Type': 'application/json',
      },
      SEARCH_BODY,
    )
    assert.equal(response.status, 200, response.body.toString())
    const [call] = stack.simulator.state.callsTo('/searchdata')
    assert.equal(call?.path, '/api/rest/2.0/searchdata')
    assert.equal(call?.query, 'x=1')
  })

  it('GET http://host/ts/session is served like /ts/session', async () => {
    const response = await rawRequest(stack.url, 'GET', `${stack.url}/ts/session`, {
      Authorization: `Bearer ${jwt}`,
    })
    assert.equal(response.status, 200)
    assert.equal((response.json() as { username: string }).username, 'alice@acme.com')
  })

  it('the path check still applies: an absolute-form traversal is 400 BAD_PATH', async () => {
    const target = `${stack.url}/ts/api/rest/2.0/%2e%2e/auth/token/full`
    const response = await rawRequest(stack.url, 'POST', target, { Authorization: `Bearer ${jwt}` })
    assert.equal(response.status, 400)
    assert.equal((response.json() as { error: { code: string } }).error.code, 'BAD_PATH')
    assert.equal(stack.simulator.state.calls.length, 0)
  })
})

describe('listener timeouts from the config', () => {
  let slow: Stack
  before(async () => {
    slow = await startStack({
      config: { server: { headersTimeoutMs: 200, requestTimeoutMs: 400 } },
    })
  })
  after(() => slow.close())

  it('a head that never ends is dropped after server.headersTimeoutMs', HANG_GUARD, async () => {
    const conn = await openRaw(slow.url)
    await conn.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    const exchange = await conn.closed
    assert.ok(exchange.closedByServer)
    assert.equal(exchange.status, 408)
    assertParserRefusal(exchange)
  })

  it('a body that never ends is dropped after server.requestTimeoutMs', HANG_GUARD, async () => {
    const conn = await openRaw(slow.url)
    const token = await slow.jwt({ sub: 'alice@acme.com' })
    await conn.write(
      `POST ${SEARCH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    )
    const exchange = await conn.closed
    assert.equal(exchange.status, 408)
    assertParserRefusal(exchange)
    assert.equal(slow.simulator.state.callsTo('/searchdata').length, 0)
  })
})
