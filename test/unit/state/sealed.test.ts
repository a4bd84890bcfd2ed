import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSealer } from '../../../src/state/redis/sealed.js'

const SECRET = 'sealed-test-secret-0123456789-0123456789-abcdef'
const OTHER = 'sealed-test-other-secret-0123456789-0123456789'
const KEY = 'tsbff:token:abc'

/** The five dot-separated parts of a sealed value. */
function parts(sealed: string): string[] {
  const split = sealed.split('.')
  assert.equal(split.length, 5)
  return split
}

describe('sealed Redis values', () => {
  it('opens what it sealed, under the same key name', () => {
    const sealer = createSealer([SECRET], 'tsbff:')
    const sealed = sealer.seal('the-token', KEY)
    assert.ok(!sealed.includes('the-token'))
    assert.equal(sealer.open(sealed, KEY), 'the-token')
  })

  it('a value opens only under the key name it was sealed for', () => {
    const sealer = createSealer([SECRET], 'tsbff:')
    const sealed = sealer.seal('the-token', KEY)
    assert.equal(sealer.open(sealed, 'tsbff:token:someone-else'), null)
  })

  it('a tag cut short does not open, though GCM would check a 4-byte tag', () => {
    const sealer = createSealer([SECRET], 'tsbff:')
    const [version, kid, iv, body, tag] = parts(sealer.seal('the-token', KEY))
    const short = Buffer.from(tag ?? '', 'base64url')
      .subarray(0, 4)
      .toString('base64url')
    assert.equal(sealer.open([version, kid, iv, body, short].join('.'), KEY), null)
    const long = Buffer.concat([Buffer.from(tag ?? '', 'base64url'), Buffer.alloc(1)])
    assert.equal(
      sealer.open([version, kid, iv, body, long.toString('base64url')].join('.'), KEY),
      null,
    )
  })

  it('a changed ciphertext, iv or tag does not open', () => {
    const sealer = createSealer([SECRET], 'tsbff:')
    const sealed = parts(sealer.seal('the-token', KEY))
    for (const index of [2, 3, 4]) {
      const changed = [...sealed]
      const bytes = Buffer.from(changed[index] ?? '', 'base64url')
      bytes[0] = (bytes[0] ?? 0) ^ 1
      changed[index] = bytes.toString('base64url')
      assert.equal(sealer.open(changed.join('.'), KEY), null, `part ${index}`)
    }
    assert.equal(sealer.open('not-a-sealed-value', KEY), null)
    assert.equal(sealer.open('', KEY), null)
  })

  it('a rotated-in secret opens old values; a rotated-out secret or another prefix does not', () => {
    const old = createSealer([SECRET], 'tsbff:')
    const sealed = old.seal('the-token', KEY)
    assert.equal(createSealer([OTHER, SECRET], 'tsbff:').open(sealed, KEY), 'the-token')
    assert.equal(createSealer([OTHER], 'tsbff:').open(sealed, KEY), null)
    assert.equal(createSealer([SECRET], 'other:').open(sealed, KEY), null)
  })
})
