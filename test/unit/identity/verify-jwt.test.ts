import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPairSync } from 'node:crypto'
import { StartupError } from '../../../src/errors.js'
import { hs256Source, publicKeyFileSource } from '../../../src/identity/keys.js'
import { createJwtVerifier } from '../../../src/identity/verify-jwt.js'
import { usernameFrom } from '../../../src/identity/username.js'
import { bearerTokenOf } from '../../../src/identity/authenticate.js'
import { testClock } from '../../helpers/clock.js'
import {
  hmacSignedJwt,
  rsaKeyPair,
  signAppJwt,
  TEST_AUDIENCE,
  TEST_HS256_SECRET,
  TEST_ISSUER,
  unsignedJwt,
} from '../../helpers/jwt.js'

const clock = testClock()
const rules = { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, clockToleranceSeconds: 30 }
const hsVerify = createJwtVerifier(hs256Source(TEST_HS256_SECRET), rules, clock.now)
const rsa = rsaKeyPair()
const dir = mkdtempSync(join(tmpdir(), 'tsbff-keys-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const pemFile = join(dir, 'public.pem')
writeFileSync(pemFile, rsa.publicPem)
const rsVerify = createJwtVerifier(publicKeyFileSource(pemFile), rules, clock.now)

const INVALID = { code: 'INVALID_TOKEN' }
const sign = (claims: Record<string, unknown>, extra = {}) =>
  signAppJwt(claims, { now: clock.now, ...extra })

describe('app JWT verification', () => {
  it('accepts a good HS256 token and returns its claims', async () => {
    const payload = await hsVerify(await sign({ sub: 'alice', roles: ['analyst'] }))
    assert.equal(payload.sub, 'alice')
    assert.deepEqual(payload.roles, ['analyst'])
  })

  it('accepts a good RS256 token against a PEM file', async () => {
    const payload = await rsVerify(await sign({ sub: 'bob' }, { key: rsa.privateKey }))
    assert.equal(payload.sub, 'bob')
  })

  const refusals: Array<[string, () => Promise<string>, RegExp]> = [
    ['alg none', async () => unsignedJwt({ sub: 'x' }, clock.now), /algorithm|not valid/],
    [
      'wrong HMAC key',
      () => sign({ sub: 'x' }, { secret: 'another-secret-of-sufficient-length-0000' }),
      /bad signature|not valid/,
    ],
    ['expired beyond tolerance', () => sign({ sub: 'x' }, { expiresIn: -31 }), /expired/],
    ['not yet valid beyond tolerance', () => sign({ sub: 'x' }, { notBefore: 31 }), /nbf/],
    ['without exp', () => sign({ sub: 'x' }, { expiresIn: null }), /exp/],
    ['another issuer', () => sign({ sub: 'x' }, { issuer: 'https://evil' }), /iss/],
    ['another audience', () => sign({ sub: 'x' }, { audience: 'other' }), /aud/],
    ['HS384 against an HS256 key', () => sign({ sub: 'x' }, { alg: 'HS384' }), /algorithm/],
    ['garbage', async () => 'not-a-jwt', /well-formed/],
    ['two parts', async () => 'abc.def', /well-formed/],
    ['bad base64 header', async () => '!!!.e30.sig', /well-formed/],
    [
      'JSON-invalid header',
      async () => `${Buffer.from('{').toString('base64url')}.e30.abc`,
      /not valid|well-formed/,
    ],
    ['oversized', async () => `${'a'.repeat(9000)}.b.c`, /well-formed/],
  ]
  for (const [name, make, message] of refusals) {
    it(`refuses ${name} with INVALID_TOKEN`, async () => {
      await assert.rejects(hsVerify(await make()), (err: Error & { code?: string }) => {
        assert.equal(err.code, INVALID.code)
        assert.match(err.message, message)
        return true
      })
    })
  }

  it('accepts expiry within the clock tolerance', async () => {
    const payload = await hsVerify(await sign({ sub: 'x' }, { expiresIn: -20 }))
    assert.equal(payload.sub, 'x')
  })

  it('refuses algorithm confusion: HS256 signed with the RSA public key PEM', async () => {
    const forged = hmacSignedJwt({ sub: 'admin' }, rsa.publicPem, clock.now)
    await assert.rejects(rsVerify(forged), INVALID)
  })

  it('refuses alg none and an HS256 token against a public key', async () => {
    await assert.rejects(rsVerify(unsignedJwt({ sub: 'x' }, clock.now)), INVALID)
    await assert.rejects(rsVerify(await sign({ sub: 'x' })), INVALID)
  })

  it('refuses a token signed by another RSA key', async () => {
    const other = rsaKeyPair()
    await assert.rejects(rsVerify(await sign({ sub: 'x' }, { key: other.privateKey })), INVALID)
  })

  it('refuses private keys and junk as the public key file', () => {
    const privatePem = join(dir, 'private.pem')
    writeFileSync(privatePem, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())
    assert.throws(() => publicKeyFileSource(privatePem), StartupError)
    const junk = join(dir, 'junk.pem')
    writeFileSync(junk, 'hello')
    assert.throws(() => publicKeyFileSource(junk), /is not a PEM public key/)
    assert.throws(() => publicKeyFileSource(join(dir, 'missing')), /ENOENT/)
  })

  it('reads EC public JWKs and restricts the algorithm to the curve', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwkFile = join(dir, 'ec.jwk')
    writeFileSync(jwkFile, JSON.stringify(publicKey.export({ format: 'jwk' })))
    assert.deepEqual(publicKeyFileSource(jwkFile).algorithms, ['ES256'])
  })
})

describe('username claim', () => {
  const cases: Array<[string, unknown, string | null]> = [
    ['plain', 'alice@acme.com', 'alice@acme.com'],
    ['numeric sub', 12345, '12345'],
    ['unicode letters', 'Zoë Ångström', 'Zoë Ångström'],
    ['255 characters', 'a'.repeat(255), 'a'.repeat(255)],
    ['empty', '', null],
    ['missing', undefined, null],
    ['array', ['a'], null],
    ['object', { a: 1 }, null],
    ['256 characters', 'a'.repeat(256), null],
    ['NUL', 'a\u0000b', null],
    ['newline', 'a\nb', null],
    ['DEL', 'a\u007fb', null],
    ['C1 control', 'a\u0085b', null],
    ['bidi override', 'admin\u202egnp.exe', null],
    ['surrounding space', ' alice', null],
    ['float', 1.5, null],
  ]
  for (const [name, value, expected] of cases) {
    it(`${expected === null ? 'refuses' : 'accepts'} ${name}`, () => {
      const claims = value === undefined ? {} : { sub: value }
      if (expected === null) assert.throws(() => usernameFrom(claims, 'sub'), INVALID)
      else assert.equal(usernameFrom(claims, 'sub'), expected)
    })
  }
})

describe('Authorization header', () => {
  const bad = ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'Token abc', 'bearer', '']
  for (const header of bad) {
    it(`refuses ${JSON.stringify(header)}`, () =>
      assert.throws(() => bearerTokenOf(header), INVALID))
  }
  it('takes the scheme case-insensitively', () =>
    assert.equal(bearerTokenOf('bEaReR abc.def.ghi'), 'abc.def.ghi'))
})
