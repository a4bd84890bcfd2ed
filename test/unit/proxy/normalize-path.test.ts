import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BffError } from '../../../src/errors.js'
import { MAX_PATH_LENGTH, normalizeProxyPath } from '../../../src/proxy/normalize-path.js'

const V2 = '/api/rest/2.0'
const GUID = 'd084c256-e284-4fc4-b80c-111cb606449a'

// [raw tail, what makes it bad, what the message must say]
const refused: readonly (readonly [string, string, RegExp])[] = [
  // dot segments, in every encoding
  [`${V2}/../auth/token/full`, 'plain ..', /"\.\."/],
  [`${V2}/%2e%2e/auth/token/full`, 'encoded ..', /"\.\."/],
  [`${V2}/%2E%2e/auth`, 'mixed-case encoded ..', /"\.\."/],
  [`${V2}/.%2e/auth`, 'half-encoded ..', /"\.\."/],
  [`${V2}/%2e./auth`, 'other half-encoded ..', /"\.\."/],
  [`${V2}/./metadata/search`, 'plain .', /"\.\."/],
  [`${V2}/%2e/metadata/search`, 'encoded .', /"\.\."/],
  [`${V2}/metadata/.`, 'trailing /.', /"\.\."/],
  [`${V2}/metadata/..`, 'trailing /..', /"\.\."/],
  [`${V2}/.../metadata`, 'three dots', /"\.\."/],
  [`${V2}/%252e%252e/auth`, 'double-encoded ..', /double encoding/],
  [`${V2}/%25%32%65%25%32%65/auth`, 'double-encoded .. with encoded digits', /double encoding/],
  [`${V2}/%25`, 'encoded percent', /double encoding/],
  [`${V2}/%252f`, 'double-encoded slash', /double encoding/],
  [`${V2}/..%2fauth`, '.. then encoded slash', /encoded slash/],
  [`${V2}/..%2Fauth`, '.. then upper-case encoded slash', /encoded slash/],
  [`${V2}/%2e%2e%5cauth`, 'encoded .. then encoded backslash', /encoded slash or backslash/],
  [`${V2}/metadata%2fsearch`, 'encoded slash inside a segment', /encoded slash/],
  [`${V2}/metadata%5Csearch`, 'upper-case encoded backslash', /encoded slash or backslash/],
  [`${V2}/..\\auth`, 'raw backslash', /backslash/],
  [`${V2}\\metadata`, 'raw backslash as separator', /backslash/],
  [`${V2}/..%c0%af`, 'overlong slash', /UTF-8/],
  [`${V2}/%c0%ae%c0%ae/auth`, 'overlong dots', /UTF-8/],
  [`${V2}/%e0%80%ae`, 'three-byte overlong dot', /UTF-8/],
  [`${V2}/%ff`, 'stray byte', /UTF-8/],
  [`${V2}/%c3`, 'truncated sequence', /UTF-8/],
  [`${V2}/%ed%a0%80`, 'encoded surrogate', /UTF-8/],
  [`${V2}/%f4%90%80%80`, 'beyond U+10FFFF', /UTF-8/],
  [`${V2}/..;/auth/token/full`, '..;', /";"/],
  [`${V2}/metadata;jsessionid=1/search`, 'path parameter', /";"/],
  [`${V2}/metadata%3bx`, 'encoded semicolon', /";"/],
  [`${V2}/metadata/`, 'trailing slash', /empty segment/],
  [`${V2}//metadata/search`, 'double slash', /empty segment/],
  ['//api/rest/2.0/metadata', 'a base URL with a trailing slash', /base URL .*without one/],
  ['//callosum/v1/tspublic/v1/session/info', 'the same for v1', /base URL .*without one/],
  ['//other/path', 'leading double slash elsewhere', /empty segment/],
  ['/', 'the root', /empty segment/],
  [`${V2}/metadata%00/search`, 'NUL', /control character \(U\+0000\)/],
  [`${V2}/metadata%0a`, 'LF', /control character \(U\+000A\)/],
  [`${V2}/metadata%0d%0aX-Injected:1`, 'CRLF', /control character \(U\+000D\)/],
  [`${V2}/metadata%09`, 'tab', /control character/],
  [`${V2}/metadata%7f`, 'DEL', /control character \(U\+007F\)/],
  [`${V2}/metadata%c2%85`, 'C1 NEL', /control character \(U\+0085\)/],
  [`${V2}/metadata%c2%9b`, 'C1 CSI', /control character \(U\+009B\)/],
  [`${V2}/metadata%20search`, 'encoded space', /whitespace/],
  [`${V2}/metadata search`, 'raw space', /whitespace/],
  [`${V2}/metadata%c2%a0`, 'no-break space', /whitespace/],
  [`${V2}/metadata%e3%80%80`, 'ideographic space', /whitespace/],
  [`${V2}/%ef%bc%8e%ef%bc%8e/auth`, 'fullwidth dots', /non-ASCII/],
  [`${V2}/auth%ef%bc%8ftoken`, 'fullwidth slash', /non-ASCII/],
  [`${V2}/metadata%e2%80%ae`, 'right-to-left override', /non-ASCII character \(U\+202E\)/],
  [`${V2}/caf%c3%a9`, 'accented letter', /non-ASCII character \(U\+00E9\)/],
  [`${V2}/caf\u00e9`, 'raw non-ASCII', /non-ASCII/],
  [`${V2}/%ef%bb%bfmetadata`, 'byte-order mark', /U\+FEFF/],
  [`${V2}/metadata%3fx=1`, 'encoded ?', /"\?"/],
  [`${V2}/metadata%23frag`, 'encoded #', /"#"/],
  [`${V2}/metadata?x=1`, 'raw ? (the caller should have split it)', /"\?"/],
  [`${V2}/%`, 'lone %', /malformed/],
  [`${V2}/%zz`, 'non-hex escape', /malformed/],
  [`${V2}/%4`, 'short escape at the end', /malformed/],
  [`${V2}/%4/x`, 'short escape mid-path', /malformed/],
  [`${V2}/%%41`, 'percent before an escape', /malformed/],
  [`${V2}/%u002e`, 'IIS %u escape', /malformed/],
  [`${V2}/a<b>`, 'angle brackets', /not allowed \(U\+003C\)/],
  [`${V2}/a%7bb%7d`, 'encoded braces', /not allowed \(U\+007B\)/],
  [`${V2}/a"b`, 'double quote', /not allowed/],
  [`${V2}/a|b`, 'pipe', /not allowed/],
  [`${V2}/a%5bb%5d`, 'encoded brackets', /not allowed/],
  ['', 'empty', /empty/],
  ['api/rest/2.0/metadata', 'no leading slash', /start with/],
  ['%2fapi/rest/2.0/metadata', 'encoded leading slash', /start with/],
  [`/${'a'.repeat(MAX_PATH_LENGTH)}`, 'too long', /longer than/],
]

// [raw tail, expected forwarded path]
const accepted: readonly (readonly [string, string])[] = [
  [`${V2}/metadata/search`, `${V2}/metadata/search`],
  ['/callosum/v1/tspublic/v1/session/info', '/callosum/v1/tspublic/v1/session/info'],
  [`${V2}/metadata/liveboard/${GUID}`, `${V2}/metadata/liveboard/${GUID}`],
  [`${V2}/metadata/%41nswer`, `${V2}/metadata/Answer`],
  [`${V2}/metadata/%73%65arch`, `${V2}/metadata/search`],
  [`${V2}/report/a:b@c`, `${V2}/report/a:b@c`],
  [`${V2}/report/a%3ab%40c`, `${V2}/report/a:b@c`],
  [`${V2}/x/a-b_c.d~e`, `${V2}/x/a-b_c.d~e`],
  [`${V2}/x/!$&'()*+,=`, `${V2}/x/!$&'()*+,=`],
  [`${V2}/x/%21%24%26%27%28%29%2a%2b%2c%3d`, `${V2}/x/!$&'()*+,=`],
  [`${V2}/x/file.json`, `${V2}/x/file.json`],
  [`${V2}/x/a..b`, `${V2}/x/a..b`],
  [`${V2}/x/.hidden`, `${V2}/x/.hidden`],
  [`${V2}/x/a%2eb`, `${V2}/x/a.b`],
  [`/${'a'.repeat(MAX_PATH_LENGTH - 1)}`, `/${'a'.repeat(MAX_PATH_LENGTH - 1)}`],
]

describe('normalizeProxyPath', () => {
  describe('refuses', () => {
    for (const [raw, why, inMessage] of refused) {
      it(`${why}: ${JSON.stringify(raw.slice(0, 60))}`, () => {
        assert.throws(() => normalizeProxyPath(raw), {
          name: 'BffError',
          code: 'BAD_PATH',
          status: 400,
          message: inMessage,
        })
      })
    }
  })

  describe('accepts and forwards the canonical form', () => {
    for (const [raw, expected] of accepted) {
      it(JSON.stringify(raw.slice(0, 60)), () => {
        assert.equal(normalizeProxyPath(raw), expected)
      })
    }
  })

  it('asserts the error code through assert.throws', () => {
    assert.throws(() => normalizeProxyPath(`${V2}/%2e%2e/auth/token/full`), { code: 'BAD_PATH' })
  })

  it('never echoes the path in its message', () => {
    const raw = `${V2}/secret-looking-segment/%00`
    assert.throws(
      () => normalizeProxyPath(raw),
      (err: unknown) => {
        assert.ok(err instanceof BffError)
        assert.ok(!err.message.includes('secret-looking-segment'))
        return true
      },
    )
  })

  it('returns a fixed point: normalising the output again changes nothing', () => {
    for (const [raw] of accepted) {
      const once = normalizeProxyPath(raw)
      assert.equal(normalizeProxyPath(once), once)
      assert.ok(!once.includes('%'), 'the output holds no escape a server could decode again')
    }
  })

  it('refuses every control character, encoded', () => {
    const controls = [...Array(0x20).keys(), 0x7f]
    for (const code of controls) {
      const raw = `${V2}/a%${code.toString(16).padStart(2, '0')}`
      assert.throws(() => normalizeProxyPath(raw), { code: 'BAD_PATH' }, raw)
    }
  })
})
