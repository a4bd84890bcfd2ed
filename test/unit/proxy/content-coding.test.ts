/** Which codings the BFF asks ThoughtSpot for, and how it reads a response's Content-Encoding. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bodyCoding, upstreamAcceptEncoding } from '../../../src/proxy/content-coding.js'

describe('upstreamAcceptEncoding', () => {
  const cases: Array<[string | string[] | undefined, string | undefined]> = [
    [undefined, undefined],
    ['', undefined],
    ['gzip, deflate, br', 'gzip, deflate, br'],
    ['br, gzip', 'gzip, br'],
    ['gzip, deflate, br, zstd', 'gzip, deflate, br'],
    ['GZIP;q=0.5', 'gzip'],
    ['x-gzip', 'gzip'],
    ['gzip;q=0, br', 'br'],
    ['gzip ; q=0.000, deflate', 'deflate'],
    ['*', 'gzip, deflate, br'],
    ['*;q=0', undefined],
    ['br;q=0, *', 'gzip, deflate'],
    ['identity', undefined],
    ['zstd, compress', undefined],
    [['gzip', 'br'], 'gzip, br'],
  ]
  for (const [browser, expected] of cases) {
    it(`${JSON.stringify(browser)} → ${String(expected)}`, () => {
      assert.equal(upstreamAcceptEncoding(browser), expected)
    })
  }
})

describe('bodyCoding', () => {
  const cases: Array<[string | undefined, ReturnType<typeof bodyCoding>]> = [
    [undefined, { kind: 'identity' }],
    ['identity', { kind: 'identity' }],
    ['gzip', { kind: 'decodable', coding: 'gzip' }],
    ['X-Gzip', { kind: 'decodable', coding: 'gzip' }],
    [' br ', { kind: 'decodable', coding: 'br' }],
    ['deflate', { kind: 'decodable', coding: 'deflate' }],
    ['zstd', { kind: 'unreadable' }],
    ['gzip, br', { kind: 'unreadable' }],
    ['compress', { kind: 'unreadable' }],
  ]
  for (const [header, expected] of cases) {
    it(`${String(header)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(bodyCoding(header), expected)
    })
  }
})
