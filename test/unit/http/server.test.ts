/**
 * The listener's set-up (one function for main.ts and the test stack), the absolute-form
 * rewrite, and the trustProxy start-up warning.
 */
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import { createListener, toOriginForm, trustProxyWarning } from '../../../src/http/server.js'

const SETTINGS = {
  headersTimeoutMs: 7000,
  requestTimeoutMs: 21_000,
  keepAliveTimeoutMs: 65_000,
  maxHeaderBytes: 12_345,
  bodyLimit: 1024,
}

describe('createListener', () => {
  it('applies every setting instead of Node’s defaults', () => {
    const server = createListener(() => undefined, SETTINGS)
    assert.equal(server.headersTimeout, 7000)
    assert.equal(server.requestTimeout, 21_000)
    assert.equal(server.keepAliveTimeout, 65_000)
    assert.equal(server.maxHeadersCount, 0, 'no silent truncation of headers past a count')
    server.close()
  })
})

function rewritten(url: string, host = 'bff.example.com'): { url: string; host: string } {
  const req = { url, headers: { host } } as unknown as IncomingMessage
  toOriginForm(req)
  return { url: req.url ?? '', host: req.headers.host ?? '' }
}

describe('toOriginForm', () => {
  const cases: Array<[string, string, string]> = [
    ['/ts/session', '/ts/session', 'bff.example.com'],
    ['http://bff.example.com/ts/session', '/ts/session', 'bff.example.com'],
    [
      'HTTPS://Other.example:8443/ts/api/rest/2.0/x?y=1',
      '/ts/api/rest/2.0/x?y=1',
      'Other.example:8443',
    ],
    ['http://user:pw@other.example/ts', '/ts', 'other.example'],
    ['http://other.example', '/', 'other.example'],
    ['http://other.example?q=1', '/?q=1', 'other.example'],
    ['http:///ts/session', '/ts/session', 'bff.example.com'],
    ['*', '*', 'bff.example.com'],
    ['ftp://other.example/ts', 'ftp://other.example/ts', 'bff.example.com'],
  ]
  for (const [url, path, host] of cases) {
    it(`${url} → ${path} (Host ${host})`, () => {
      assert.deepEqual(rewritten(url), { url: path, host })
    })
  }
})

describe('trustProxyWarning', () => {
  it('says nothing when trustProxy is off', () => {
    assert.equal(trustProxyWarning(false), undefined)
  })
  for (const value of [true, 2] as const) {
    it(`warns for ${String(value)}, saying what to check`, () => {
      const warning = trustProxyWarning(value) ?? ''
      assert.match(warning, /X-Forwarded-For/)
      assert.match(warning, /only through it/)
      assert.match(warning, /server\.trustProxy: false/)
    })
  }
})
