import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BffError } from '../../../src/errors.js'
import { normaliseUsername, profileClaim, usernameFrom } from '../../../src/identity/username.js'

const INVALID = (err: unknown): boolean => err instanceof BffError && err.code === 'INVALID_TOKEN'

describe('usernameFrom: invisible and format characters are refused', () => {
  const refused: Array<[string, string]> = [
    ['zero-width space U+200B', 'ali\u200bce'],
    ['zero-width non-joiner U+200C', 'ali\u200cce'],
    ['zero-width joiner U+200D', 'ali\u200dce'],
    ['word joiner U+2060', 'ali\u2060ce'],
    ['BOM / zero-width no-break space U+FEFF', '\ufeffalice'],
    ['soft hyphen U+00AD', 'ali\u00adce'],
    ['no-break space U+00A0', 'alice\u00a0smith'],
    ['narrow no-break space U+202F', 'alice\u202fsmith'],
    ['ideographic space U+3000', 'alice\u3000smith'],
    ['en quad U+2000', 'alice\u2000smith'],
    ['ogham space mark U+1680', 'alice\u1680smith'],
    ['line separator U+2028', 'alice\u2028smith'],
    ['paragraph separator U+2029', 'alice\u2029smith'],
    ['tag character U+E0041', 'alice\u{e0041}'],
    ['language tag U+E0001', 'alice\u{e0001}'],
    ['lone high surrogate', 'alice\ud800'],
    ['lone low surrogate', '\udc00alice'],
    ['Arabic letter mark U+061C (Cf)', 'alice\u061c'],
    ['interlinear annotation U+FFF9 (Cf)', 'alice\ufff9'],
    ['variation selector U+FE0F (default-ignorable)', 'alice\ufe0f'],
    ['combining grapheme joiner U+034F (default-ignorable)', 'alic\u034fe'],
    ['Hangul filler U+3164 (default-ignorable)', 'alice\u3164'],
    ['left-to-right mark U+200E', 'alice\u200e'],
    ['bidi override U+202E', 'admin\u202egnp.exe'],
    ['NUL', 'a\u0000b'],
    ['tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['C1 control', 'a\u0085b'],
    ['surrounding space', ' alice'],
    ['trailing NBSP', 'alice\u00a0'],
    ['only a zero-width space', '\u200b'],
    ['empty', ''],
  ]
  for (const [name, value] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(() => usernameFrom({ sub: value }, 'sub'), INVALID)
      assert.ok('problem' in normaliseUsername(value))
    })
  }

  it('names the code point it refused, never echoing the claim', () => {
    assert.throws(
      () => usernameFrom({ sub: 'ali\u200bce' }, 'sub'),
      (err: unknown) => err instanceof BffError && /U\+200B/.test(err.message),
    )
  })

  const accepted: Array<[string, string, string]> = [
    ['plain email', 'alice@acme.com', 'alice@acme.com'],
    ['inner plain space', 'Zoë Ångström', 'Zoë Ångström'],
    ['non-Latin letters', 'ユーザー', 'ユーザー'],
    ['emoji (a surrogate pair is not lone)', 'alice😀', 'alice😀'],
    ['255 characters', 'a'.repeat(255), 'a'.repeat(255)],
    ['255 astral characters', '😀'.repeat(255), '😀'.repeat(255)],
  ]
  for (const [name, value, expected] of accepted) {
    it(`accepts ${name}`, () => assert.equal(usernameFrom({ sub: value }, 'sub'), expected))
  }
})

describe('usernameFrom: NFC and the case option', () => {
  it('normalises to NFC: a decomposed and a composed accent are one user', () => {
    const decomposed = 'zoe\u0301@acme.com'
    const composed = 'zo\u00e9@acme.com'
    assert.equal(usernameFrom({ sub: decomposed }, 'sub'), composed)
    assert.equal(usernameFrom({ sub: composed }, 'sub'), composed)
  })

  it('normalises canonical singletons (the Ångström and Kelvin signs)', () => {
    assert.equal(usernameFrom({ sub: '\u212bngstr\u00f6m' }, 'sub'), '\u00c5ngstr\u00f6m')
    assert.equal(usernameFrom({ sub: '\u212a-user' }, 'sub'), 'K-user')
  })

  it('checks after normalising: a refused character survives NFC and is still refused', () => {
    // NFC composes e + U+0301 but leaves the zero-width space where it is.
    assert.throws(() => usernameFrom({ sub: 'zoe\u0301\u200b' }, 'sub'), INVALID)
  })

  it('measures the length after NFC, which is what ThoughtSpot receives', () => {
    // 255 decomposed "é" are 510 code units but 255 characters once composed.
    const decomposed = 'e\u0301'.repeat(255)
    assert.equal(usernameFrom({ sub: decomposed }, 'sub'), '\u00e9'.repeat(255))
    assert.throws(() => usernameFrom({ sub: `${decomposed}x` }, 'sub'), INVALID)
  })

  it('refuses a lone surrogate before normalising it', () => {
    const result = normaliseUsername('a\ud800')
    assert.ok('problem' in result && /surrogate/.test(result.problem))
  })

  it('preserves case by default and lower-cases with usernameCase: lower', () => {
    assert.equal(usernameFrom({ sub: 'Alice@Acme.COM' }, 'sub'), 'Alice@Acme.COM')
    assert.equal(usernameFrom({ sub: 'Alice@Acme.COM' }, 'sub', 'preserve'), 'Alice@Acme.COM')
    assert.equal(usernameFrom({ sub: 'Alice@Acme.COM' }, 'sub', 'lower'), 'alice@acme.com')
  })

  it('lower-cases locale-independently and stays NFC', () => {
    // U+0130 lower-cases to i + combining dot above in every locale.
    const lowered = usernameFrom({ sub: 'İSTANBUL' }, 'sub', 'lower')
    assert.equal(lowered, 'i\u0307stanbul')
    assert.equal(lowered, lowered.normalize('NFC'))
    assert.equal(usernameFrom({ sub: 'ZOE\u0301' }, 'sub', 'lower'), 'zo\u00e9')
  })

  it('turns a safe integer into text, and refuses other types', () => {
    assert.equal(usernameFrom({ sub: 12345 }, 'sub'), '12345')
    for (const value of [1.5, ['a'], { a: 1 }, null, true]) {
      assert.throws(() => usernameFrom({ sub: value }, 'sub'), INVALID)
    }
    assert.throws(() => usernameFrom({}, 'sub'), INVALID)
  })
})

describe('profileClaim', () => {
  it('ignores an email with an invisible character, keeps a display name with ZWNJ', () => {
    assert.equal(profileClaim({ email: 'a\u200b@acme.com' }, 'email', 'email'), null)
    assert.equal(profileClaim({ email: 'a@acme.com' }, 'email', 'email'), 'a@acme.com')
    // Persian names need the zero-width non-joiner; a display name is not an identity.
    assert.equal(profileClaim({ name: 'می\u200cخواهم' }, 'name', 'name'), 'می\u200cخواهم')
    assert.equal(profileClaim({ name: 'evil\u202e' }, 'name', 'name'), null)
    assert.equal(profileClaim({ name: 'zoe\u0301' }, 'name', 'name'), 'zo\u00e9')
  })
})
