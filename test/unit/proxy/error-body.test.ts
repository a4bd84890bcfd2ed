/**
 * sanitizeErrorBody: an upstream error answer passes through to the browser only after
 * anything that could echo the credential the BFF injected is taken out.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_ERROR_BODY, sanitizeErrorBody } from '../../../src/proxy/error-body.js'

const TOKEN = 'dHMtdG9rZW4tZm9yLWFsaWNlLTAxMjM0NTY3ODk'
const JSESSIONID = '0A1B2C3D4E5F60718293A4B5C6D7E8F9'
const CLIENT_ID = '6f1c2b9e-3d4a-4c8e-9b7a-1e2f3a4b5c6d'

function sanitize(body: unknown, credentials: readonly string[] = [TOKEN], isJson = true): string {
  const raw = typeof body === 'string' ? body : JSON.stringify(body)
  return sanitizeErrorBody(Buffer.from(raw), credentials, isJson).toString('utf8')
}

function parsed(body: unknown, credentials?: readonly string[]): unknown {
  return JSON.parse(sanitize(body, credentials)) as unknown
}

describe('sanitizeErrorBody', () => {
  it('replaces the user’s token echoed inside a JSON debug string', () => {
    const body = {
      error: {
        message: {
          code: 10023,
          debug: `Token ${TOKEN} is not valid for user alice (expected ${TOKEN})`,
        },
      },
    }
    const out = sanitize(body)
    assert.ok(!out.includes(TOKEN), out)
    assert.deepEqual(JSON.parse(out), {
      error: {
        message: {
          code: 10023,
          debug: 'Token [redacted] is not valid for user alice (expected [redacted])',
        },
      },
    })
  })

  it('replaces every credential it is given (token and session cookie values)', () => {
    const body = { debug: `cookie JSESSIONID=${JSESSIONID}; clientId=${CLIENT_ID} rejected` }
    const out = sanitize(body, [JSESSIONID, CLIENT_ID])
    assert.ok(!out.includes(JSESSIONID) && !out.includes(CLIENT_ID), out)
    assert.deepEqual(JSON.parse(out), {
      debug: 'cookie JSESSIONID=[redacted]; clientId=[redacted] rejected',
    })
  })

  describe('replaces a credential that upstream JSON-escaped', () => {
    // Standard base64 tokens carry `/`, `+` and `=`; Java serialisers write `\/` (Jackson option,
    // org.json) or `\u003d` (Gson's HTML-safe default). The raw text then never contains the
    // token, but JSON.parse decodes it and JSON.stringify writes it out verbatim.
    const credential = 'dHMvdG9rZW4+Zm9y/YWxpY2U=='
    const escapes: Array<[string, string]> = [
      ['solidus as \\/', credential.replaceAll('/', '\\/')],
      [
        '= and / as \\u003d and \\u002f',
        credential.replaceAll('=', '\\u003d').replaceAll('/', '\\u002f'),
      ],
      ['+ as \\u002b', credential.replaceAll('+', '\\u002b')],
    ]
    for (const [name, escaped] of escapes) {
      it(name, () => {
        const raw = `{"error":{"message":{"code":10023,"debug":"bad token ${escaped}"}}}`
        const out = sanitizeErrorBody(Buffer.from(raw), [credential], true).toString('utf8')
        assert.ok(!out.includes(credential), `the credential leaked: ${out}`)
        assert.ok(!out.includes(escaped), `the escaped credential leaked: ${out}`)
        assert.deepEqual(JSON.parse(out), {
          error: { message: { code: 10023, debug: 'bad token [redacted]' } },
        })
      })
    }
  })

  describe('redacts credential-named fields at any depth', () => {
    const names = [
      'token',
      'authToken',
      'auth_token',
      'secret',
      'secret_key',
      'password',
      'cookie',
      'Set-Cookie',
      'authorization',
      'Authorization',
      'session',
      'sessionId',
      'JSESSIONID',
    ]
    for (const name of names) {
      it(`"${name}" at the top, nested in objects and inside arrays`, () => {
        const body = {
          [name]: 'plain-value',
          error: {
            message: { code: 10002, [name]: { nested: 'object value' } },
            details: [{ [name]: 42 }, { other: 'kept' }],
          },
        }
        assert.deepEqual(parsed(body, []), {
          [name]: '[redacted]',
          error: {
            message: { code: 10002, [name]: '[redacted]' },
            details: [{ [name]: '[redacted]' }, { other: 'kept' }],
          },
        })
      })
    }

    it('leaves fields whose names are not credential-like alone', () => {
      const body = { code: 1, debug: 'x', user: { name: 'alice', id: 'u-1' }, list: ['a', 1, null] }
      assert.deepEqual(parsed(body, []), body)
    })
  })

  it('replaces credential substrings in a non-JSON body', () => {
    const text = `Error: bad bearer ${TOKEN}\nsession=${JSESSIONID}\n`
    const out = sanitize(text, [TOKEN, JSESSIONID], false)
    assert.equal(out, 'Error: bad bearer [redacted]\nsession=[redacted]\n')
  })

  it('does not try to parse a non-JSON body, so a field name there is left as text', () => {
    const text = '{"token":"not a credential the BFF holds"}'
    assert.equal(sanitize(text, [TOKEN], false), text)
  })

  it('scrubs the text of a body that claims JSON but does not parse', () => {
    const text = `{"debug": "broken ${TOKEN}`
    assert.equal(sanitize(text, [TOKEN], true), '{"debug": "broken [redacted]')
  })

  it('does not replace credentials shorter than 8 characters (documented choice)', () => {
    // A short value would blank out ordinary words; real tokens and session ids are long.
    const body = { debug: 'abc1234 and abcdefg appear here' }
    assert.deepEqual(parsed(body, ['abc1234', 'abcdefg']), body)
    // Exactly 8 characters is replaced.
    assert.deepEqual(parsed({ debug: 'x abcd1234 y' }, ['abcd1234']), { debug: 'x [redacted] y' })
  })

  it('ignores an empty credential instead of blanking the body', () => {
    const body = { debug: 'ordinary' }
    assert.deepEqual(parsed(body, ['']), body)
  })

  it('turns a body over MAX_ERROR_BODY into a short JSON stub that carries nothing of it', () => {
    const big = JSON.stringify({ debug: `${TOKEN} ${'x'.repeat(MAX_ERROR_BODY)}` })
    assert.ok(big.length > MAX_ERROR_BODY)
    const out = sanitizeErrorBody(Buffer.from(big), [TOKEN], true).toString('utf8')
    assert.ok(out.length < 512, `stub is short (${out.length})`)
    assert.ok(!out.includes(TOKEN) && !out.includes('xxxx'))
    const stub = JSON.parse(out) as { error?: { message?: unknown } }
    assert.equal(typeof stub.error?.message, 'string')

    const bigText = sanitizeErrorBody(Buffer.alloc(MAX_ERROR_BODY + 1, 0x61), [], false)
    assert.ok(bigText.length < 512)
    assert.doesNotThrow(() => JSON.parse(bigText.toString('utf8')) as unknown)
  })

  it('keeps a body of exactly MAX_ERROR_BODY bytes', () => {
    const text = 'a'.repeat(MAX_ERROR_BODY)
    assert.equal(sanitize(text, [], false), text)
  })

  it('passes ordinary error bodies unchanged', () => {
    const v2 = '{"error":{"message":{"code":10002,"debug":"bad input"}}}'
    assert.equal(sanitize(v2), v2)
    const v1 = {
      code: 10002,
      incident_id_guid: '2b7e4b1e-95a1-4f7e-9b4f-1a2b3c4d5e6f',
      debug: '["bad input"]',
    }
    assert.deepEqual(parsed(v1), v1)
    assert.equal(sanitize('Bad Request', [TOKEN], false), 'Bad Request')
  })
})
