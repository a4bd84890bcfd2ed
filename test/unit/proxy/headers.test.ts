import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { describe, it } from 'node:test'
import {
  FORWARDED_REQUEST_HEADERS,
  browserResponseHeaders,
  upstreamRequestHeaders,
} from '../../../src/proxy/headers.js'
import { credentialForms } from '../../../src/proxy/credential-scan.js'

// Headers the README names as never forwarded upstream, with a plausible value each.
const neverForwarded: IncomingHttpHeaders = {
  cookie: '__Host-tsbff.sid=s%3Aabc',
  authorization: 'Bearer app-jwt',
  'proxy-authorization': 'Basic Zm9vOmJhcg==',
  'proxy-foo': '1',
  connection: 'keep-alive',
  'keep-alive': 'timeout=5',
  te: 'trailers',
  trailer: 'x-foo',
  'transfer-encoding': 'chunked',
  upgrade: 'websocket',
  'proxy-connection': 'keep-alive',
  'x-forwarded-for': '10.0.0.1',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  'x-forwarded-prefix': '/admin',
  forwarded: 'for=10.0.0.1',
  'x-real-ip': '10.0.0.1',
  host: 'bff.example',
  'content-length': '12',
  origin: 'https://app.example',
  referer: 'https://app.example/page',
  'x-csrf': '1',
  'x-requested-by': 'ThoughtSpot',
  expect: '100-continue',
  'x-auth-token': 'secret',
  'x-api-key': 'secret',
  'x-thoughtspot-anything': 'x',
  'x-callosum-token': 'secret',
  'x-session-id': 'abc',
  'x-http-method-override': 'DELETE',
  'x-original-url': '/api/rest/2.0/auth/token/full',
  'x-rewrite-url': '/api/rest/2.0/auth/token/full',
}

// Headers never returned to the browser from ThoughtSpot.
const neverReturned: IncomingHttpHeaders = {
  'set-cookie': ['JSESSIONID=abc; Path=/', 'clientId=x'],
  authorization: 'Bearer ts-token',
  'www-authenticate': 'Bearer realm="ts"',
  'proxy-authenticate': 'Basic',
  'proxy-anything': 'x',
  'authentication-info': 'x',
  'x-auth-token': 'secret',
  'x-callosum-token': 'secret',
  'x-csrf-token': 'secret',
  'x-session-id': 'abc',
  connection: 'close',
  'keep-alive': 'timeout=5',
  te: 'trailers',
  trailer: 'x-foo',
  'transfer-encoding': 'chunked',
  upgrade: 'h2c',
  'proxy-connection': 'close',
  'access-control-allow-origin': '*',
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': 'x-auth-token',
  'strict-transport-security': 'max-age=0',
  'content-security-policy': 'default-src *',
  'content-security-policy-report-only': "default-src 'none'",
  'x-frame-options': 'ALLOWALL',
  'cross-origin-resource-policy': 'cross-origin',
  'referrer-policy': 'unsafe-url',
  server: 'nginx/1.2.3',
  'x-powered-by': 'Tomcat',
  via: '1.1 ts-edge',
  'x-request-id': 'upstream-id',
  'alt-svc': 'h3=":443"',
  'clear-site-data': '"cookies"',
  nel: '{"report_to":"x"}',
  'report-to': '{"group":"x"}',
  'reporting-endpoints': 'x="https://ts/r"',
}

describe('upstreamRequestHeaders', () => {
  for (const name of Object.keys(neverForwarded)) {
    it(`drops ${name}`, () => {
      const out = upstreamRequestHeaders({
        accept: 'application/json',
        [name]: neverForwarded[name],
      })
      assert.equal(out[name], undefined)
      assert.equal(out.accept, 'application/json')
    })
  }

  it('keeps every allowlisted header', () => {
    const incoming: IncomingHttpHeaders = {
      accept: 'application/json',
      'accept-encoding': 'gzip, br',
      'accept-language': 'en-GB',
      'cache-control': 'no-cache',
      'content-type': 'application/json',
      'if-match': '"a"',
      'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT',
      'if-none-match': '"b"',
      'if-range': '"c"',
      'if-unmodified-since': 'Wed, 21 Oct 2015 07:28:00 GMT',
      range: 'bytes=0-99',
      'user-agent': 'Mozilla/5.0',
      'x-request-id': 'req-1.a:b',
      'x-thoughtspot-client': 'typescript-sdk:2.24.0',
    }
    assert.deepEqual(upstreamRequestHeaders(incoming), incoming)
    assert.deepEqual(new Set(Object.keys(incoming)), FORWARDED_REQUEST_HEADERS)
  })

  it('drops everything the README names at once, keeping the ordinary headers', () => {
    const out = upstreamRequestHeaders({ ...neverForwarded, accept: '*/*', 'user-agent': 'ua' })
    assert.deepEqual(out, { accept: '*/*', 'user-agent': 'ua' })
  })

  it("forwards the REST SDK's X-ThoughtSpot-Client only with a short plain value, and no other x-thoughtspot-*", () => {
    assert.deepEqual(upstreamRequestHeaders({ 'x-thoughtspot-client': 'typescript-sdk' }), {
      'x-thoughtspot-client': 'typescript-sdk',
    })
    for (const value of ['', ' lead', 'trail ', 'x'.repeat(129), 'caf\u00e9']) {
      assert.deepEqual(upstreamRequestHeaders({ 'x-thoughtspot-client': value }), {}, value)
    }
    assert.deepEqual(upstreamRequestHeaders({ 'x-thoughtspot-orgs': '42' }), {})
  })

  it('drops headers not on the allowlist', () => {
    assert.deepEqual(
      upstreamRequestHeaders({ 'x-custom': '1', dnt: '1', 'sec-fetch-mode': 'cors' }),
      {},
    )
  })

  it('drops allowlisted headers named in Connection', () => {
    const out = upstreamRequestHeaders({
      connection: 'close, Accept-Language , x-foo',
      'accept-language': 'en',
      'x-foo': '1',
      accept: '*/*',
    })
    assert.deepEqual(out, { accept: '*/*' })
  })

  it('drops a header whose value holds CR, LF or NUL', () => {
    for (const bad of ['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\u0000b', 'a\u007fb']) {
      const out = upstreamRequestHeaders({ accept: bad, 'content-type': 'text/plain' })
      assert.deepEqual(out, { 'content-type': 'text/plain' }, JSON.stringify(bad))
    }
  })

  it('drops an x-request-id outside the accepted shape', () => {
    assert.deepEqual(upstreamRequestHeaders({ 'x-request-id': 'a b' }), {})
    assert.deepEqual(upstreamRequestHeaders({ 'x-request-id': 'x'.repeat(129) }), {})
    assert.deepEqual(upstreamRequestHeaders({ 'x-request-id': '' }), {})
  })

  it('keeps multi-value headers as arrays and matches names case-insensitively', () => {
    const out = upstreamRequestHeaders({ 'if-range': ['"a"', '"b"'] })
    assert.deepEqual(out, { 'if-range': ['"a"', '"b"'] })
    const mixed = upstreamRequestHeaders({ Accept: 'a', accept: 'b', Cookie: 'c' })
    assert.deepEqual(mixed, { accept: ['a', 'b'] })
  })

  it('does not return the input arrays themselves', () => {
    const values = ['"a"', '"b"']
    const out = upstreamRequestHeaders({ 'if-range': values })
    assert.deepEqual(out['if-range'], values)
    assert.notEqual(out['if-range'], values)
  })
})

describe('browserResponseHeaders', () => {
  for (const name of Object.keys(neverReturned)) {
    it(`drops ${name}`, () => {
      const out = browserResponseHeaders({
        'content-type': 'application/json',
        [name]: neverReturned[name],
      })
      assert.equal(out[name], undefined)
      assert.equal(out['content-type'], 'application/json')
    })
  }

  it('keeps ordinary headers, including content-length and ThoughtSpot ids', () => {
    const upstream: IncomingHttpHeaders = {
      'content-type': 'application/octet-stream',
      'content-length': '1234',
      'content-disposition': 'attachment; filename="report.pdf"',
      'content-encoding': 'gzip',
      'cache-control': 'private, max-age=0',
      etag: '"abc"',
      'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT',
      vary: 'Accept-Encoding',
      date: 'Wed, 21 Oct 2015 07:28:00 GMT',
      location: 'https://ts.example/x',
      'retry-after': '5',
      'x-callosum-incident-id': 'abc-123',
      'x-callosum-trace-id': 'trace',
    }
    assert.deepEqual(browserResponseHeaders(upstream), upstream)
  })

  it('drops content-length beside transfer-encoding', () => {
    const out = browserResponseHeaders({
      'transfer-encoding': 'chunked',
      'content-length': '10',
      'content-type': 'text/csv',
    })
    assert.deepEqual(out, { 'content-type': 'text/csv' })
  })

  it('drops headers named in Connection', () => {
    const out = browserResponseHeaders({
      connection: 'x-foo, ETag',
      'x-foo': '1',
      etag: '"a"',
      'content-type': 'text/plain',
    })
    assert.deepEqual(out, { 'content-type': 'text/plain' })
  })

  it('drops a header whose value holds CR, LF or NUL, and only that header', () => {
    for (const bad of ['a\r\nSet-Cookie: x=1', 'a\nb', 'a\u0000b', 'a\u0001b']) {
      const out = browserResponseHeaders({ 'x-callosum-trace-id': bad, etag: '"e"' })
      assert.deepEqual(out, { etag: '"e"' }, JSON.stringify(bad))
    }
    const multi = browserResponseHeaders({ link: ['<a>; rel=preload', 'b\r\nc'], etag: '"e"' })
    assert.deepEqual(multi, { etag: '"e"' })
  })

  it('keeps multi-value headers as arrays', () => {
    const out = browserResponseHeaders({ link: ['<a>; rel=preload', '<b>; rel=preload'] })
    assert.deepEqual(out, { link: ['<a>; rel=preload', '<b>; rel=preload'] })
  })

  it('drops everything at once and keeps the rest', () => {
    const out = browserResponseHeaders({ ...neverReturned, 'content-type': 'application/json' })
    assert.deepEqual(out, { 'content-type': 'application/json' })
  })

  it('drops invalid header names', () => {
    assert.deepEqual(browserResponseHeaders({ 'bad name': 'x', 'a:b': 'y', ok: 'z' }), { ok: 'z' })
  })

  it('drops any header whose value carries the injected credential, whatever its name', () => {
    const token = 'dHMvdG9rZW4+Zm9y/YWxpY2U=='
    const forms = credentialForms([token])
    const out = browserResponseHeaders(
      {
        location: `https://ts/x?t=${encodeURIComponent(token)}`,
        'x-anything': `echo ${token}`,
        link: ['<a>; rel=preload', `<b?t=${token}>`],
        etag: '"e"',
      },
      forms,
    )
    assert.deepEqual(out, { etag: '"e"' })
  })
})

describe('upstreamRequestHeaders: accept-encoding', () => {
  it('is narrowed to the codings the BFF decodes, or dropped', () => {
    assert.equal(
      upstreamRequestHeaders({ 'accept-encoding': 'gzip, zstd' })['accept-encoding'],
      'gzip',
    )
    assert.equal(
      upstreamRequestHeaders({ 'accept-encoding': 'zstd' })['accept-encoding'],
      undefined,
    )
    assert.equal(upstreamRequestHeaders({})['accept-encoding'], undefined)
  })
})
