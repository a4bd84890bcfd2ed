/**
 * What flows back from ThoughtSpot (issue 8 §4, issue 7 §2), against a bare upstream that
 * answers what the simulator never does: the injected credential echoed in any header, split
 * across body chunks or JSON-escaped; v1 `session/info` with its `authToken` as real ThoughtSpot
 * sends it; compressed bodies, in codings the BFF reads and in one it does not. The forwarder is
 * the real one, over real HTTP; every assertion is on what the browser received or what the
 * upstream was sent.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { after, before, beforeEach, describe, it } from 'node:test'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import express from 'express'
import request from 'supertest'
import { requestId } from '../../src/http/request-id.js'
import { createLogger } from '../../src/observability/logger.js'
import { createMetrics } from '../../src/observability/metrics.js'
import type { Credential } from '../../src/proxy/credential.js'
import { MAX_WHOLE_TEXT_BODY } from '../../src/proxy/answer.js'
import { createForwarder } from '../../src/proxy/forward.js'
import { scopeOf, type ApiFamily } from '../../src/scope.js'
import { unlimitedBudget } from '../../src/upstream/budget.js'
import { rawRequest } from '../helpers/raw-request.js'

/** A standard-base64 token: `/`, `+` and `=` are what JSON and URL encoders rewrite. */
const TOKEN = 'dHMvdG9rZW4+Zm9y/YWxpY2UtMDEyMzQ1Njc4OQ=='
const JSESSIONID = '0A1B2C3D4E5F60718293A4B5C6D7E8F9'
const CLIENT_ID = '6f1c2b9e-3d4a-4c8e-9b7a-1e2f3a4b5c6d'
/** ThoughtSpot's own session token in `session/info`: not one the BFF injected. */
const SESSION_AUTH_TOKEN = 'session-info-auth-token-not-injected-7c1d'

const V2_CREDENTIAL: Credential = {
  headers: { authorization: `Bearer ${TOKEN}` },
  secrets: [TOKEN],
}
const V1_CREDENTIAL: Credential = {
  headers: {
    cookie: `JSESSIONID=${JSESSIONID}; clientId=${CLIENT_ID}`,
    'x-requested-by': 'ThoughtSpot',
  },
  secrets: [JSESSIONID, CLIENT_ID],
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void
let handle: Handler
let received: IncomingMessage | undefined
let upstream: Server
let host: string
const logs: string[] = []

before(async () => {
  upstream = createServer((req, res) => {
    received = req
    handle(req, res)
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const address = upstream.address()
  host = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})
after(() => new Promise((resolve) => upstream.close(resolve)))
beforeEach(() => {
  received = undefined
  logs.length = 0
})

/** The BFF's forwarder for one target path and credential, as the pipeline runs it. */
function bffApp(path: string, credential: Credential = V2_CREDENTIAL, family: ApiFamily = 'v2') {
  const forward = createForwarder({
    host,
    timeoutMs: 5000,
    budget: unlimitedBudget,
    metrics: createMetrics(),
    credentials: { get: () => Promise.resolve(credential), drop: () => Promise.resolve() },
  })
  const app = express()
  const log = createLogger({
    level: 'info',
    destination: { write: (line: string) => void logs.push(line) },
  })
  app.use(requestId(log))
  app.use((_req, res, next) => {
    const scope = scopeOf(res)
    scope.target = { family, path, query: '' }
    scope.credential = credential
    next()
  })
  app.use(forward)
  return app
}

function bff(path: string, credential?: Credential, family?: ApiFamily) {
  return request(bffApp(path, credential, family))
}

/** Answers with `chunks` written one by one, each flushed before the next. */
function answerInChunks(
  status: number,
  headers: Record<string, string>,
  chunks: Buffer[],
): Handler {
  return (_req, res) => {
    res.writeHead(status, headers)
    let index = 0
    const next = (): void => {
      const chunk = chunks[index++]
      if (chunk === undefined) res.end()
      else res.write(chunk, () => setImmediate(next))
    }
    next()
  }
}

function answer(status: number, headers: Record<string, string>, body: Buffer | string): Handler {
  return (_req, res) => {
    res.writeHead(status, headers).end(body)
  }
}

function binaryParser(
  res: request.Response,
  done: (err: Error | null, body: Buffer) => void,
): void {
  const chunks: Buffer[] = []
  res.on('data', (chunk: Buffer) => chunks.push(chunk))
  res.on('end', () => done(null, Buffer.concat(chunks)))
}

const SECRET_TEXTS = [
  TOKEN,
  JSESSIONID,
  CLIENT_ID,
  encodeURIComponent(TOKEN),
  TOKEN.replaceAll('/', '\\/'),
]
function assertNoSecret(text: string, where: string): void {
  for (const secret of SECRET_TEXTS) assert.ok(!text.includes(secret), `${where} carries ${secret}`)
}

describe('response headers that carry the injected credential are dropped, whatever their name', () => {
  const cases: Array<[string, Credential, Record<string, string>]> = [
    [
      'Location with the token in its query',
      V2_CREDENTIAL,
      { location: `https://ts.example/x?t=${TOKEN}` },
    ],
    [
      'Location with the token percent-encoded',
      V2_CREDENTIAL,
      { location: `https://ts.example/x?t=${encodeURIComponent(TOKEN)}` },
    ],
    [
      'Location with lower-case percent escapes',
      V2_CREDENTIAL,
      {
        location: `/x?t=${encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())}`,
      },
    ],
    [
      'a diagnostic header echoing the bearer',
      V2_CREDENTIAL,
      { 'x-debug-request': `Bearer ${TOKEN}` },
    ],
    ['a header echoing the JSESSIONID', V1_CREDENTIAL, { 'x-upstream-note': `sid ${JSESSIONID}` }],
    [
      'a header echoing the clientId cookie',
      V1_CREDENTIAL,
      { link: `</x?c=${CLIENT_ID}>; rel=next` },
    ],
  ]
  for (const [name, credential, headers] of cases) {
    it(name, async () => {
      handle = answer(
        200,
        { 'content-type': 'application/json', 'x-callosum-trace-id': 'trace-1', ...headers },
        '{}',
      )
      const response = await bff('/api/rest/2.0/searchdata', credential).get('/')
      assert.equal(response.status, 200)
      for (const header of Object.keys(headers))
        assert.equal(response.headers[header], undefined, header)
      assertNoSecret(JSON.stringify(response.headers), 'the response headers')
      assert.equal(response.headers['x-callosum-trace-id'], 'trace-1', 'other headers pass')
    })
  }

  it('a Location without the credential passes (redirects keep working)', async () => {
    handle = answer(
      302,
      { location: 'https://ts.example/next', 'content-type': 'application/json' },
      '{}',
    )
    const response = await bff('/api/rest/2.0/searchdata').get('/')
    assert.equal(response.status, 302)
    assert.equal(response.headers.location, 'https://ts.example/next')
  })

  it('on error answers too', async () => {
    handle = answer(
      400,
      { 'content-type': 'application/json', 'x-reason': `token ${TOKEN} bad` },
      '{}',
    )
    const response = await bff('/api/rest/2.0/searchdata').get('/')
    assert.equal(response.status, 400)
    assert.equal(response.headers['x-reason'], undefined)
  })
})

describe('2xx JSON bodies are scanned for the injected credential while streaming', () => {
  it('a token split across chunk boundaries is masked in place; Content-Length stays true', async () => {
    const text = JSON.stringify({ data: [{ note: `echo ${TOKEN} and again ${TOKEN}` }] })
    const bytes = Buffer.from(text)
    const at = text.indexOf(TOKEN)
    // Cut inside the first token, and between the two, in several sizes.
    const chunks = [
      bytes.subarray(0, at + 3),
      bytes.subarray(at + 3, at + 20),
      bytes.subarray(at + 20, at + TOKEN.length + 9),
      bytes.subarray(at + TOKEN.length + 9),
    ]
    handle = answerInChunks(
      200,
      { 'content-type': 'application/json', 'content-length': String(bytes.length) },
      chunks,
    )
    const response = await bff('/api/rest/2.0/searchdata').get('/').buffer(true).parse(binaryParser)
    const body = response.body as Buffer
    assert.equal(response.status, 200)
    assert.equal(response.headers['content-length'], String(bytes.length))
    assert.equal(body.length, bytes.length)
    assertNoSecret(body.toString(), 'the body')
    const mask = '*'.repeat(TOKEN.length)
    assert.deepEqual(JSON.parse(body.toString()), {
      data: [{ note: `echo ${mask} and again ${mask}` }],
    })
    assert.ok(logs.some((line) => line.includes('"event":"proxy.credential_masked"')))
    assert.ok(logs.every((line) => !line.includes(TOKEN)))
  })

  for (const [name, length] of [
    ['chunked (no Content-Length): the streaming mask', undefined],
    ['declared above the whole-body bound: the streaming mask', MAX_WHOLE_TEXT_BODY + 1],
  ] as const) {
    it(`${name} masks a token split across chunks`, async () => {
      const filler = length === undefined ? '' : 'x'.repeat(length)
      const text = JSON.stringify({ note: `echo ${TOKEN}`, filler }).slice(0, length)
      const bytes = Buffer.from(text)
      const at = text.indexOf(TOKEN)
      handle = answerInChunks(
        200,
        {
          'content-type': 'application/json',
          ...(length === undefined ? {} : { 'content-length': String(bytes.length) }),
        },
        [bytes.subarray(0, at + 5), bytes.subarray(at + 5, at + 11), bytes.subarray(at + 11)],
      )
      const response = await bff('/api/rest/2.0/searchdata')
        .get('/')
        .buffer(true)
        .parse(binaryParser)
      const body = response.body as Buffer
      assert.equal(response.status, 200)
      assert.equal(body.length, bytes.length)
      assertNoSecret(body.toString(), 'the body')
      assert.ok(body.toString().includes('*'.repeat(TOKEN.length)))
    })
  }

  it('JSON-escaped and percent-encoded forms of the token are masked', async () => {
    const escaped = TOKEN.replaceAll('/', '\\/')
    const gson = JSON.stringify(TOKEN).slice(1, -1).replaceAll('=', '\\u003d')
    const text = `{"a":"${escaped}","b":"${gson}","c":"https://x/?t=${encodeURIComponent(TOKEN)}"}`
    handle = answer(200, { 'content-type': 'application/json' }, text)
    const response = await bff('/api/rest/2.0/searchdata').get('/')
    assert.equal(response.status, 200)
    assertNoSecret(response.text, 'the body')
    assert.ok(!response.text.includes(gson))
    assert.equal(typeof (JSON.parse(response.text) as { a: string }).a, 'string', 'still JSON')
  })

  it('v1 session cookie values are masked too', async () => {
    handle = answer(
      200,
      { 'content-type': 'application/json' },
      `{"x":"${JSESSIONID}","y":"${CLIENT_ID}"}`,
    )
    const response = await bff('/callosum/v1/tspublic/v1/pinboarddata', V1_CREDENTIAL, 'v1').get(
      '/',
    )
    assertNoSecret(response.text, 'the body')
  })

  it('a body without the credential arrives byte for byte', async () => {
    const text = JSON.stringify({
      rows: Array.from({ length: 2000 }, (_, i) => ({ i, v: `value-${i}` })),
    })
    handle = answerInChunks(200, { 'content-type': 'application/json' }, [
      Buffer.from(text.slice(0, 7000)),
      Buffer.from(text.slice(7000)),
    ])
    const response = await bff('/api/rest/2.0/searchdata').get('/')
    assert.equal(response.text, text)
  })

  it('binary exports stream untouched, even bytes that equal the token', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0x25, 0x50, 0x44, 0x46]),
      Buffer.from(TOKEN),
      Buffer.alloc(4096, 7),
    ])
    handle = answer(
      200,
      { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      bytes,
    )
    const response = await bff('/api/rest/2.0/report/answer')
      .post('/')
      .buffer(true)
      .parse(binaryParser)
    assert.deepEqual(response.body, bytes)
  })
})

/** v1 `session/info` as real ThoughtSpot answers it (the simulator leaves `authToken` out). */
const SESSION_INFO = {
  userName: 'alice@acme.com',
  userDisplayName: 'Alice',
  userEmail: 'alice@acme.com',
  userGUID: '59481331-ee53-42be-a548-bd87be6ddd4a',
  privileges: ['DATADOWNLOADING'],
  expirationTime: 1_900_000_000_000,
  authToken: SESSION_AUTH_TOKEN,
  locale: 'en-US',
  timezone: 'UTC',
  isSessionExpiring: false,
  configInfo: {
    mixpanelConfig: { production: true },
    tokenSettings: { value: SESSION_AUTH_TOKEN },
  },
}

describe('session and user routes lose their credential fields', () => {
  for (const path of ['/callosum/v1/tspublic/v1/session/info', '/callosum/v1/session/info']) {
    it(`${path}: authToken is removed, the rest stays`, async () => {
      handle = answer(
        200,
        { 'content-type': 'application/json;charset=UTF-8', etag: '"s1"' },
        JSON.stringify(SESSION_INFO),
      )
      const response = await bff(path, V1_CREDENTIAL, 'v1').get('/')
      assert.equal(response.status, 200)
      assert.ok(!response.text.includes(SESSION_AUTH_TOKEN), response.text)
      const { authToken: _token, configInfo, ...rest } = SESSION_INFO
      assert.deepEqual(response.body, {
        ...rest,
        configInfo: { mixpanelConfig: configInfo.mixpanelConfig },
      })
      assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.text)))
      assert.equal(
        response.headers.etag,
        undefined,
        'a rewritten body has no validator of the original',
      )
    })
  }

  it('a gzip-compressed session/info is decoded, stripped and sent identity-encoded', async () => {
    handle = answer(
      200,
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      gzipSync(JSON.stringify(SESSION_INFO)),
    )
    const response = await bff('/callosum/v1/tspublic/v1/session/info', V1_CREDENTIAL, 'v1')
      .get('/')
      .set('Accept-Encoding', 'gzip')
      .buffer(true)
      .parse(binaryParser)
    const text = (response.body as Buffer).toString()
    assert.equal(response.headers['content-encoding'], undefined)
    assert.equal((JSON.parse(text) as { userName: string }).userName, 'alice@acme.com')
    assert.ok(!text.includes(SESSION_AUTH_TOKEN))
  })

  it('HEAD of session/info has no body to strip and is not refused', async () => {
    handle = (_req, res) => {
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'content-length': '512',
          etag: '"s"',
        })
        .end()
    }
    const response = await bff('/callosum/v1/session/info', V1_CREDENTIAL, 'v1').head('/')
    assert.equal(response.status, 200)
    assert.equal(response.headers.etag, undefined)
  })

  it('v2 auth/session/user: a token field is removed', async () => {
    handle = answer(
      200,
      { 'content-type': 'application/json' },
      JSON.stringify({ name: 'alice', id: 'u1', token: 'abc-def-ghi-jkl' }),
    )
    const response = await bff('/api/rest/2.0/auth/session/user').get('/')
    assert.deepEqual(response.body, { name: 'alice', id: 'u1' })
  })

  it('a session answer that is not JSON after all is replaced, not passed on', async () => {
    handle = answer(200, { 'content-type': 'application/json' }, `authToken=${SESSION_AUTH_TOKEN}`)
    const response = await bff('/callosum/v1/session/info', V1_CREDENTIAL, 'v1').get('/')
    assert.equal(response.status, 502)
    const error = (response.body as { error: { code: string; message: string } }).error
    assert.equal(error.code, 'UPSTREAM_ERROR')
    // Not "returned an error": ThoughtSpot said 200; its body is what could not be passed on.
    assert.match(error.message, /^ThoughtSpot answered 200, but its body cannot be passed on/)
    assert.ok(!response.text.includes(SESSION_AUTH_TOKEN))
  })
})

describe('compression', () => {
  const forwarded: Array<[string | undefined, string | undefined]> = [
    ['gzip, deflate, br, zstd', 'gzip, deflate, br'],
    ['gzip, deflate', 'gzip, deflate'],
    ['br;q=0, *', 'gzip, deflate'],
    ['identity', undefined],
    ['zstd', undefined],
    [undefined, undefined],
  ]
  for (const [browser, sent] of forwarded) {
    it(`browser Accept-Encoding ${String(browser)} → upstream ${String(sent)}`, async () => {
      handle = answer(200, { 'content-type': 'application/json' }, '{}')
      let call = bff('/api/rest/2.0/searchdata').get('/')
      if (browser !== undefined) call = call.set('Accept-Encoding', browser)
      else call = call.unset('Accept-Encoding')
      await call
      assert.equal(received?.headers['accept-encoding'], sent)
    })
  }

  for (const [coding, encode] of [
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
  ] as const) {
    it(`a ${coding} JSON answer is decoded, scanned and sent identity-encoded; its ETag weakened`, async () => {
      const text = JSON.stringify({ note: `echo ${TOKEN}`, rows: [1, 2, 3] })
      const compressed = encode(Buffer.from(text))
      handle = answerInChunks(
        200,
        {
          'content-type': 'application/json',
          'content-encoding': coding,
          'content-length': String(compressed.length),
          etag: '"v1"',
        },
        [compressed.subarray(0, 10), compressed.subarray(10)],
      )
      const response = await bff('/api/rest/2.0/searchdata')
        .get('/')
        .set('Accept-Encoding', coding)
        .buffer(true)
        .parse(binaryParser)
      const body = (response.body as Buffer).toString()
      assert.equal(response.headers['content-encoding'], undefined)
      assert.equal(response.headers['content-length'], undefined)
      assert.equal(response.headers.etag, 'W/"v1"')
      assert.equal(body, text.replace(TOKEN, '*'.repeat(TOKEN.length)))
    })
  }

  it('a gzip binary export streams through still compressed, byte for byte', async () => {
    const compressed = gzipSync(
      Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(8192, 1)]),
    )
    handle = answer(
      200,
      {
        'content-type': 'application/octet-stream',
        'content-encoding': 'gzip',
        'content-length': String(compressed.length),
      },
      compressed,
    )
    // A client that does not decode (supertest would), to see the bytes as sent.
    const server = bffApp('/api/rest/2.0/report/liveboard').listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const address = server.address() as AddressInfo
      const response = await rawRequest(`http://127.0.0.1:${address.port}`, 'POST', '/', {
        'accept-encoding': 'gzip',
      })
      assert.equal(response.headers['content-encoding'], 'gzip')
      assert.equal(response.headers['content-length'], String(compressed.length))
      assert.deepEqual(response.body, compressed)
    } finally {
      server.close()
    }
  })

  it('a gzip error body is decoded before it is scrubbed, never rewritten under Content-Encoding: gzip', async () => {
    const error = { error: { message: { code: 10002, debug: `token ${TOKEN} expired` } } }
    handle = answer(
      500,
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      gzipSync(JSON.stringify(error)),
    )
    const response = await bff('/api/rest/2.0/searchdata').get('/').set('Accept-Encoding', 'gzip')
    assert.equal(response.status, 500)
    assert.equal(response.headers['content-encoding'], undefined)
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.text)))
    assert.deepEqual(response.body, {
      error: { message: { code: 10002, debug: 'token [redacted] expired' } },
    })
  })

  it('an error body in a coding the BFF cannot read is replaced whole; the status is kept', async () => {
    handle = answer(
      400,
      { 'content-type': 'application/json', 'content-encoding': 'zstd' },
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]),
    )
    const response = await bff('/api/rest/2.0/searchdata').get('/')
    assert.equal(response.status, 400)
    assert.equal(response.headers['content-encoding'], undefined)
    const body = response.body as { error: { code: string; message: string; requestId: string } }
    assert.equal(body.error.code, 'UPSTREAM_ERROR')
    assert.match(body.error.message, /cannot read/)
    assert.equal(body.error.requestId, response.headers['x-request-id'])
  })

  it('a 2xx JSON body in a coding the BFF cannot read is 502 UPSTREAM_ERROR, never passed unscanned', async () => {
    handle = answer(
      200,
      { 'content-type': 'application/json', 'content-encoding': 'gzip, br' },
      Buffer.from(TOKEN),
    )
    const response = await bff('/api/rest/2.0/searchdata').get('/')
    assert.equal(response.status, 502)
    assert.equal((response.body as { error: { code: string } }).error.code, 'UPSTREAM_ERROR')
    assertNoSecret(response.text, 'the body')
  })

  it('HEAD of a gzip JSON answer: no body to decode, headers as the GET would have them', async () => {
    handle = (_req, res) => {
      res
        .writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': '120',
        })
        .end()
    }
    const response = await bff('/api/rest/2.0/searchdata').head('/').set('Accept-Encoding', 'gzip')
    assert.equal(response.status, 200)
    assert.equal(response.headers['content-encoding'], undefined)
  })
})
