/**
 * /ts/session and identity end to end: every identity failure answers the JSON error and mints
 * nothing; login sets a safe cookie and shows the mapping; logout revokes upstream.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { assertErrorShape, HTTPS } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'
import { hmacSignedJwt, unsignedJwt } from '../helpers/jwt.js'

let stack: Stack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())
beforeEach(() => stack.simulator.state.clearCalls())

describe('identity failures', () => {
  const cases: Array<[string, () => Promise<Record<string, string>>, number, string]> = [
    ['no credentials', async () => ({}), 401, 'UNAUTHENTICATED'],
    ['Basic scheme', async () => ({ Authorization: 'Basic YTpi' }), 401, 'INVALID_TOKEN'],
    ['empty bearer', async () => ({ Authorization: 'Bearer ' }), 401, 'INVALID_TOKEN'],
    ['malformed bearer', async () => ({ Authorization: 'Bearer abc' }), 401, 'INVALID_TOKEN'],
    [
      'alg none',
      async () => ({ Authorization: `Bearer ${unsignedJwt({ sub: 'alice' }, stack.clock.now)}` }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'forged signature',
      async () => ({
        Authorization: `Bearer ${hmacSignedJwt({ sub: 'alice' }, 'guessed-secret', stack.clock.now)}`,
      }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'expired',
      async () => ({
        Authorization: `Bearer ${await stack.jwt({ sub: 'alice' }, { expiresIn: -120 })}`,
      }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'not yet valid',
      async () => ({
        Authorization: `Bearer ${await stack.jwt({ sub: 'alice' }, { notBefore: 120 })}`,
      }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'no exp',
      async () => ({
        Authorization: `Bearer ${await stack.jwt({ sub: 'alice' }, { expiresIn: null })}`,
      }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'wrong issuer',
      async () => ({
        Authorization: `Bearer ${await stack.jwt({ sub: 'alice' }, { issuer: 'https://evil' })}`,
      }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'wrong audience',
      async () => ({
        Authorization: `Bearer ${await stack.jwt({ sub: 'alice' }, { audience: 'x' })}`,
      }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'control character username',
      async () => ({ Authorization: `Bearer ${await stack.jwt({ sub: 'ali\u0000ce' })}` }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'over-long username',
      async () => ({ Authorization: `Bearer ${await stack.jwt({ sub: 'a'.repeat(256) })}` }),
      401,
      'INVALID_TOKEN',
    ],
    [
      'missing username claim',
      async () => ({ Authorization: `Bearer ${await stack.jwt({ email: 'a@b.c' })}` }),
      401,
      'INVALID_TOKEN',
    ],
    ['unmapped user', async () => ({}), 403, 'NOT_MAPPED'],
    [
      'denied user',
      async () => ({
        Authorization: `Bearer ${await stack.jwt({ sub: 'sus', status: 'suspended' })}`,
      }),
      403,
      'DENIED',
    ],
  ]

  for (const route of ['POST /ts/session', 'GET /ts/session', 'GET /ts/auth/token']) {
    const [method, path] = route.split(' ') as ['POST' | 'GET', string]
    for (const [name, headers, status, code] of cases) {
      if (code === 'NOT_MAPPED') continue // needs a mapping without default: below
      it(`${route}: ${name} → ${status} ${code}, nothing minted`, async () => {
        const req = method === 'POST' ? stack.request.post(path) : stack.request.get(path)
        const response = await req.set(HTTPS).set(await headers())
        assert.equal(response.status, status)
        assert.equal(response.headers['content-type']?.split(';')[0], 'application/json')
        assertErrorShape(response, response.status, code)
        assert.ok(response.headers['x-request-id'])
        assert.equal(stack.simulator.state.calls.length, 0, 'nothing reached ThoughtSpot')
      })
    }
  }

  it('refuses an invalid bearer even when a valid session cookie comes with it (no fall-back)', async () => {
    const cookie = await stack.login({ sub: 'alice@acme.com' })
    const ok = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(ok.status, 200)
    const response = await stack.request
      .get('/ts/auth/token')
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('Authorization', 'Bearer nope')
    assert.equal(response.status, 401)
    assertErrorShape(response, response.status, 'INVALID_TOKEN')
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 0)
  })

  it('refuses a forged session cookie', async () => {
    const response = await stack.request
      .get('/ts/session')
      .set(HTTPS)
      .set('Cookie', '__Host-tsbff.sid=s%3Aforged.signature')
    assert.equal(response.status, 401)
    assertErrorShape(response, response.status, 'UNAUTHENTICATED')
  })

  it('keeps a sane x-request-id and replaces an unsafe one', async () => {
    const kept = await stack.request.get('/ts/session').set('x-request-id', 'abc-123:x.y')
    assert.equal(kept.headers['x-request-id'], 'abc-123:x.y')
    assert.equal(kept.body.error.requestId, 'abc-123:x.y')
    const replaced = await stack.request
      .get('/ts/session')
      .set('x-request-id', 'bad id\twith<stuff>')
    assert.notEqual(replaced.headers['x-request-id'], 'bad id\twith<stuff>')
    assert.match(replaced.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/)
  })
})

describe('login, session view, logout', () => {
  it('POST /ts/session sets a safe cookie, regenerates the id, answers the mapping', async () => {
    const jwt = await stack.jwt({
      sub: 'alice@acme.com',
      roles: ['analyst'],
      email: 'alice@acme.com',
    })
    const first = await stack.request
      .post('/ts/session')
      .set(HTTPS)
      .set('Authorization', `Bearer ${jwt}`)
    assert.equal(first.status, 200)
    assert.equal(first.headers['cache-control'], 'no-store')
    const setCookie = (first.headers['set-cookie'] as unknown as string[])[0] ?? ''
    assert.match(setCookie, /^__Host-tsbff\.sid=/)
    assert.match(setCookie, /HttpOnly/i)
    assert.match(setCookie, /Secure/i)
    assert.match(setCookie, /SameSite=Lax/i)
    assert.deepEqual(
      { ...first.body, expiresAt: undefined },
      {
        username: 'alice@acme.com',
        groups: ['analysts', 'embed_viewers'],
        orgId: 0,
        accessLevel: 'FULL',
        expiresAt: undefined,
      },
    )
    assert.match(first.body.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

    // Logging in again with the old cookie gets a new session id (no fixation).
    const oldCookie = setCookie.split(';')[0] ?? ''
    const second = await stack.request
      .post('/ts/session')
      .set(HTTPS)
      .set('Cookie', oldCookie)
      .set('Authorization', `Bearer ${jwt}`)
    const newCookie = ((second.headers['set-cookie'] as unknown as string[])[0] ?? '').split(';')[0]
    assert.notEqual(newCookie, oldCookie)
    const stale = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', oldCookie)
    assert.equal(stale.status, 401, 'the pre-login session id is gone')
  })

  it('GET /ts/session shows each mapping result, by cookie or by bearer', async () => {
    const cookie = await stack.login({ sub: 'b@globex.com', email: 'b@globex.com' })
    const viaCookie = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(viaCookie.status, 200)
    assert.deepEqual([viaCookie.body.groups, viaCookie.body.orgId], [['embed_viewers'], 42])

    const exp = Math.floor(stack.clock.now() / 1000) + 600
    const bearer = await stack.jwt({ sub: 'ceo@acme.com' })
    const viaBearer = await stack.request
      .get('/ts/session')
      .set('Authorization', `Bearer ${bearer}`)
    assert.equal(viaBearer.status, 200)
    assert.deepEqual(viaBearer.body.groups, ['embed_viewers', 'executives'])
    assert.equal(viaBearer.body.expiresAt, new Date(exp * 1000).toISOString())
  })

  it('refuses login over plain http because the cookie is Secure, with a clear message', async () => {
    const response = await stack.request
      .post('/ts/session')
      .set('Authorization', `Bearer ${await stack.jwt({ sub: 'alice@acme.com' })}`)
    assert.equal(response.status, 400)
    assert.match(response.body.error.message, /https|trustProxy/)
  })

  it('DELETE /ts/session needs X-CSRF with a cookie, then revokes upstream and ends the session', async () => {
    const cookie = await stack.login({ sub: 'carol@acme.com' })
    const token = await stack.request.get('/ts/auth/token').set(HTTPS).set('Cookie', cookie)
    assert.equal(token.status, 200)
    const tsToken = token.text

    const noCsrf = await stack.request.delete('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(noCsrf.status, 403)
    assertErrorShape(noCsrf, noCsrf.status, 'CSRF')

    const response = await stack.request
      .delete('/ts/session')
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('X-CSRF', '1')
    assert.equal(response.status, 204)
    const revokes = stack.simulator.state.callsTo('/auth/token/revoke')
    assert.equal(revokes.length, 1)
    assert.equal(revokes[0]?.headers.authorization, `Bearer ${tsToken}`)
    assert.equal(stack.simulator.state.tokens.get(tsToken)?.revoked, true)

    const after = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(after.status, 401)
    // The revoked token is gone from the cache too: the next login mints anew.
    const again = await stack.login({ sub: 'carol@acme.com' })
    const fresh = await stack.request.get('/ts/auth/token').set(HTTPS).set('Cookie', again)
    assert.notEqual(fresh.text, tsToken)
  })

  it('DELETE /ts/session with a bearer JWT also ends the session cookie that came with it', async () => {
    const cookie = await stack.login({ sub: 'both@acme.com' })
    const jwt = await stack.jwt({ sub: 'both@acme.com' })
    const response = await stack.request
      .delete('/ts/session')
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('Authorization', `Bearer ${jwt}`)
    assert.equal(response.status, 204)
    const after = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(after.status, 401, 'the cookie names no session any more')
  })

  it('a bearer request with a session cookie neither reads nor touches the session', async () => {
    const cookie = await stack.login({ sub: 'cookie-owner@acme.com' })
    const jwt = await stack.jwt({ sub: 'bearer-user@acme.com' })
    const response = await stack.request
      .get('/ts/session')
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('Authorization', `Bearer ${jwt}`)
    assert.equal(response.body.username, 'bearer-user@acme.com', 'the bearer JWT wins')
    assert.equal(response.headers['set-cookie'], undefined)
    const still = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(still.body.username, 'cookie-owner@acme.com')
  })
})

describe('a mapping without default', () => {
  let strict: Stack
  before(async () => {
    strict = await startStack({
      mapping: 'rules:\n  - when: { claim: roles, includes: analyst }\n    groups: [analysts]\n',
    })
  })
  after(() => strict.close())

  for (const route of ['POST /ts/session', 'GET /ts/session', 'GET /ts/auth/token']) {
    it(`${route} refuses an unmapped user with 403 NOT_MAPPED and mints nothing`, async () => {
      const [method, path] = route.split(' ') as ['POST' | 'GET', string]
      const jwt = await strict.jwt({ sub: 'nobody@acme.com', roles: ['viewer'] })
      const req = method === 'POST' ? strict.request.post(path) : strict.request.get(path)
      const response = await req.set(HTTPS).set('Authorization', `Bearer ${jwt}`)
      assert.equal(response.status, 403)
      assertErrorShape(response, response.status, 'NOT_MAPPED')
      assert.equal(strict.simulator.state.calls.length, 0)
    })
  }
})
