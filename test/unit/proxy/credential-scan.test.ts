/**
 * The credential scan: the forms a credential takes in a body, header values that carry it, and
 * the streaming mask, which must find a credential however the body is cut into chunks.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { describe, it } from 'node:test'
import {
  containsCredential,
  createCredentialMask,
  credentialForms,
} from '../../../src/proxy/credential-scan.js'

const TOKEN = 'dHMvdG9rZW4+Zm9y/YWxpY2U=='
const PLAIN = 'aGVsbG8td29ybGQtdG9rZW4tMTIzNDU2Nzg5MGFi'
const MASK = '*'.repeat(TOKEN.length)

function masked(chunks: readonly string[], forms = credentialForms([TOKEN]), limit = Infinity) {
  const counts: number[] = []
  const stream = Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(
    createCredentialMask({ forms, limit, onMasked: (count) => counts.push(count) }),
  )
  return text(stream).then((out) => ({ out, count: counts.reduce((a, b) => a + b, 0) }))
}

describe('credentialForms', () => {
  it('a plain base64url token has one form', () => {
    assert.deepEqual(credentialForms([PLAIN]), [PLAIN])
  })

  it('a standard base64 token adds its JSON-escaped and percent-encoded forms', () => {
    const forms = credentialForms([TOKEN])
    assert.ok(forms.includes(TOKEN))
    assert.ok(forms.includes(TOKEN.replaceAll('/', '\\/')))
    assert.ok(forms.includes(TOKEN.replaceAll('=', '\\u003d')))
    assert.ok(forms.includes(encodeURIComponent(TOKEN)))
    assert.ok(
      forms.includes(encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())),
    )
    assert.equal(new Set(forms).size, forms.length)
  })

  it('ignores values too short to be a credential, and duplicates', () => {
    assert.deepEqual(credentialForms(['short', PLAIN, PLAIN]), [PLAIN])
  })
})

describe('containsCredential', () => {
  const forms = credentialForms([TOKEN])
  const cases: Array<[string, boolean]> = [
    [`Bearer ${TOKEN}`, true],
    [`https://ts/x?t=${encodeURIComponent(TOKEN)}`, true],
    [`https://ts/x?t=${encodeURIComponent(encodeURIComponent(TOKEN)).replace(/%25/g, '%')}`, true],
    ['https://ts/x?t=%zz%41', false],
    ['https://ts/next', false],
    [TOKEN.slice(0, -1), false],
  ]
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} → ${expected}`, () => {
      assert.equal(containsCredential(value, forms), expected)
    })
  }

  it('never matches with no credential', () => {
    assert.equal(containsCredential(TOKEN, []), false)
  })
})

describe('createCredentialMask', () => {
  const body = `{"a":"${TOKEN}","b":"x"}`

  it('masks a token split at every possible point between two chunks', async () => {
    for (let cut = 0; cut <= body.length; cut++) {
      const { out, count } = await masked([body.slice(0, cut), body.slice(cut)])
      assert.equal(out, `{"a":"${MASK}","b":"x"}`, `cut at ${cut}`)
      assert.equal(count, 1)
    }
  })

  it('masks a token spread over many one-byte chunks', async () => {
    const { out } = await masked(Array.from({ length: body.length }, (_, i) => body.charAt(i)))
    assert.equal(out, `{"a":"${MASK}","b":"x"}`)
  })

  it('masks every occurrence and every form, keeping the length', async () => {
    const escaped = TOKEN.replaceAll('/', '\\/')
    const input = `${TOKEN}|${escaped}|${TOKEN}${TOKEN}`
    const { out, count } = await masked([input.slice(0, 30), input.slice(30)])
    assert.equal(out.length, input.length)
    assert.equal(out, `${MASK}|${'*'.repeat(escaped.length)}|${MASK}${MASK}`)
    assert.equal(count, 4)
  })

  it('passes a body without the credential unchanged', async () => {
    const input = 'x'.repeat(10_000)
    const { out, count } = await masked([input.slice(0, 4000), input.slice(4000)])
    assert.equal(out, input)
    assert.equal(count, 0)
  })

  it('stops scanning after its limit: the rest streams on as it is', async () => {
    const { out } = await masked(['a'.repeat(64), TOKEN, TOKEN], credentialForms([TOKEN]), 64)
    assert.equal(out, 'a'.repeat(64) + TOKEN + TOKEN)
  })

  it('with no forms, is a pass-through', async () => {
    const { out } = await masked([TOKEN], [])
    assert.equal(out, TOKEN)
  })
})
