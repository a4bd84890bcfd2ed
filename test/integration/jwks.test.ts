/**
 * App JWTs verified against a remote JWKS (IDENTITY_JWKS_URL), served by a real HTTP server on
 * loopback: the right key by kid, no HMAC through a JWKS, and an unreachable IdP is a clear 502,
 * never a 500.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { after, before, it } from 'node:test'
import { exportJWK, SignJWT } from 'jose'
import { signAppJwt, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/jwt.js'
import { startStack, type Stack } from '../helpers/start.js'

const signing = generateKeyPairSync('rsa', { modulusLength: 2048 })
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
let idp: Server
let jwksUrl: string
let served = 0
let stack: Stack

before(async () => {
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' }
  idp = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end()
      return
    }
    served++
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
  })
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve))
  const address = idp.address()
  jwksUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/.well-known/jwks.json`
  stack = await startStack({ env: { IDENTITY_HS256_SECRET: '', IDENTITY_JWKS_URL: jwksUrl } })
})
after(async () => {
  await stack.close()
  await new Promise((resolve) => idp.close(resolve))
})

/** An RS256 app JWT with a `kid`, as an identity provider publishing a JWKS would sign it. */
async function sign(key = signing.privateKey): Promise<string> {
  const now = Math.floor(stack.clock.now() / 1000)
  return new SignJWT({ sub: 'jwks-user@acme.com' })
    .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
    .setIssuer(TEST_ISSUER)
    .setAudience(TEST_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(key)
}

it('accepts a token signed by the JWKS key and caches the key set', async () => {
  const jwt = await sign()
  for (let i = 0; i < 3; i++) {
    const response = await stack.request.get('/ts/session').set('Authorization', `Bearer ${jwt}`)
    assert.equal(response.status, 200, response.text)
    assert.equal(response.body.username, 'jwks-user@acme.com')
  }
  assert.equal(served, 1, 'the JWKS was fetched once and cached')
})

it('refuses a token signed by another key, and an HS256 token, with INVALID_TOKEN', async () => {
  const forged = await sign(other.privateKey)
  const hmac = await signAppJwt(
    { sub: 'x' },
    { now: stack.clock.now, secret: 'a-guessed-shared-secret-of-32-bytes!!' },
  )
  for (const jwt of [forged, hmac]) {
    const response = await stack.request.get('/ts/session').set('Authorization', `Bearer ${jwt}`)
    assert.equal(response.status, 401)
    assert.equal(response.body.error.code, 'INVALID_TOKEN')
  }
})

it('answers 502 UPSTREAM_UNAVAILABLE, not 500, when the identity provider is down', async () => {
  const unreachable = await startStack({
    env: { IDENTITY_HS256_SECRET: '', IDENTITY_JWKS_URL: 'http://127.0.0.1:9/jwks.json' },
  })
  try {
    const response = await unreachable.request
      .get('/ts/session')
      .set('Authorization', `Bearer ${await sign()}`)
    assert.equal(response.status, 502)
    assert.equal(response.body.error.code, 'UPSTREAM_UNAVAILABLE')
    assert.equal(unreachable.simulator.state.calls.length, 0)
  } finally {
    await unreachable.close()
  }
})
