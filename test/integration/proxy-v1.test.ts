/**
 * The REST v1 proxy : calls ride on a ThoughtSpot session the BFF holds per user
 * (session/login/token with no_url_redirection=true), with X-Requested-By; query strings and form
 * bodies pass unchanged; a session that dies upstream is logged in again once; logout ends it.
 * Also: with TS_AUTH_API=v1 the v2 proxy uses that session too.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { CATALOGUE } from '../../src/simulator/server.js'
import { HTTPS } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

const LIVEBOARD = CATALOGUE.find((item) => item.type === 'LIVEBOARD')!.id
const ALLOW = [
  { method: 'GET', path: '/callosum/v1/tspublic/v1/session/info' },
  { method: 'POST', path: '/callosum/v1/tspublic/v1/pinboarddata' },
  { method: 'GET', path: '/api/rest/2.0/auth/session/user' },
]

function sessionCookieOf(call: { headers: Record<string, unknown> } | undefined): string {
  const cookie = call?.headers.cookie
  return typeof cookie === 'string' ? cookie : ''
}

describe('v1 proxy with a BFF-held ThoughtSpot session', () => {
  let stack: Stack
  let cookie: string
  before(async () => {
    stack = await startStack({ config: { proxy: { allow: ALLOW } } })
    cookie = await stack.login({ sub: 'vic@acme.com', roles: ['analyst'] })
  })
  after(() => stack.close())
  beforeEach(() => stack.simulator.state.clearCalls())

  it('logs in upstream once, then forwards with the held session and X-Requested-By', async () => {
    const first = await stack.request
      .get('/ts/callosum/v1/tspublic/v1/session/info')
      .set(HTTPS)
      .set('Cookie', cookie)
    assert.equal(first.status, 200, first.text)
    assert.equal(first.body.userName, 'vic@acme.com')
    assert.equal(
      first.headers['set-cookie'],
      undefined,
      'ThoughtSpot’s session cookies stay in the BFF',
    )
    const paths = stack.simulator.state.calls.map((call) => call.path)
    assert.deepEqual(paths, [
      '/api/rest/2.0/auth/token/full',
      '/callosum/v1/tspublic/v1/session/login/token',
      '/callosum/v1/tspublic/v1/session/info',
    ])
    const [, login, info] = stack.simulator.state.calls
    assert.equal(login?.form?.no_url_redirection, 'true')
    assert.equal(login?.form?.username, 'vic@acme.com')
    assert.equal(login?.status, 204)
    assert.match(sessionCookieOf(info), /^JSESSIONID=[^;]+; clientId=/)
    assert.equal(
      sessionCookieOf(info).includes('tsbff.sid'),
      false,
      'the browser’s cookie is not forwarded',
    )
    assert.equal(info?.headers['x-requested-by'], 'ThoughtSpot')
    assert.equal(info?.headers.authorization, undefined)

    stack.simulator.state.clearCalls()
    const second = await stack.request
      .get('/ts/callosum/v1/tspublic/v1/session/info')
      .set(HTTPS)
      .set('Cookie', cookie)
    assert.equal(second.status, 200)
    assert.deepEqual(
      stack.simulator.state.calls.map((call) => call.path),
      ['/callosum/v1/tspublic/v1/session/info'],
    )
  })

  it('passes the query string and the form body unchanged', async () => {
    const query = `?id=${LIVEBOARD}&batchsize=5&offset=0&formattype=COMPACT`
    const form = 'vizid=%5B%22a%22%5D&note=x+y%26z'
    const response = await stack.request
      .post(`/ts/callosum/v1/tspublic/v1/pinboarddata${query}`)
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('X-CSRF', '1')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(form)
    assert.equal(response.status, 200, response.text)
    const call = stack.simulator.state.callsTo('/pinboarddata').at(-1)
    assert.equal(`?${call?.query}`, query)
    assert.equal(call?.body.toString('utf8'), form)
    assert.equal(call?.headers['content-type'], 'application/x-www-form-urlencoded')
  })

  it('survives the ThoughtSpot session expiring: one re-login, one retry', async () => {
    assert.equal(
      (
        await stack.request
          .get('/ts/callosum/v1/tspublic/v1/session/info')
          .set(HTTPS)
          .set('Cookie', cookie)
      ).status,
      200,
    )
    stack.simulator.state.expireSessions()
    stack.simulator.state.clearCalls()
    const response = await stack.request
      .get('/ts/callosum/v1/tspublic/v1/session/info')
      .set(HTTPS)
      .set('Cookie', cookie)
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(
      stack.simulator.state.calls.map((call) => `${call.path} ${call.status}`),
      [
        '/callosum/v1/tspublic/v1/session/info 401',
        '/callosum/v1/tspublic/v1/session/login/token 204',
        '/callosum/v1/tspublic/v1/session/info 200',
      ],
    )
    const [dead, , fresh] = stack.simulator.state.calls
    assert.notEqual(sessionCookieOf(dead), sessionCookieOf(fresh))
  })

  it('mints afresh when the cached token no longer logs in (revoked upstream)', async () => {
    const other = await stack.login({ sub: 'rita@acme.com' })
    assert.equal(
      (
        await stack.request
          .get('/ts/callosum/v1/tspublic/v1/session/info')
          .set(HTTPS)
          .set('Cookie', other)
      ).status,
      200,
    )
    stack.simulator.state.revokeTokensOf('rita@acme.com')
    stack.simulator.state.expireSessions()
    stack.simulator.state.clearCalls()
    const response = await stack.request
      .get('/ts/callosum/v1/tspublic/v1/session/info')
      .set(HTTPS)
      .set('Cookie', other)
    assert.equal(response.status, 200, response.text)
    const paths = stack.simulator.state.calls.map((call) => `${call.path} ${call.status}`)
    assert.deepEqual(paths, [
      '/callosum/v1/tspublic/v1/session/info 401',
      '/callosum/v1/tspublic/v1/session/login/token 401',
      '/api/rest/2.0/auth/token/full 200',
      '/callosum/v1/tspublic/v1/session/login/token 204',
      '/callosum/v1/tspublic/v1/session/info 200',
    ])
  })

  it('answers 502 UPSTREAM_AUTH_FAILED when the session dies twice', async () => {
    stack.simulator.state.setFault({ mode: 'unauthorized', paths: /session\/info/ })
    try {
      const response = await stack.request
        .get('/ts/callosum/v1/tspublic/v1/session/info')
        .set(HTTPS)
        .set('Cookie', cookie)
      assert.equal(response.status, 502)
      assert.equal(response.body.error.code, 'UPSTREAM_AUTH_FAILED')
      assert.equal(stack.simulator.state.callsTo('/session/info').length, 2)
    } finally {
      stack.simulator.state.clearFault()
    }
  })

  it('ends the held session upstream at logout', async () => {
    const own = await stack.login({ sub: 'leo@acme.com' })
    assert.equal(
      (
        await stack.request
          .get('/ts/callosum/v1/tspublic/v1/session/info')
          .set(HTTPS)
          .set('Cookie', own)
      ).status,
      200,
    )
    const held = sessionCookieOf(stack.simulator.state.callsTo('/session/info').at(-1))
    stack.simulator.state.clearCalls()
    const logout = await stack.request
      .delete('/ts/session')
      .set(HTTPS)
      .set('Cookie', own)
      .set('X-CSRF', '1')
    assert.equal(logout.status, 204)
    const logoutCall = stack.simulator.state.callsTo('/callosum/v1/tspublic/v1/session/logout')[0]
    assert.equal(sessionCookieOf(logoutCall), held)
    assert.equal(logoutCall?.status, 204)
    assert.equal(stack.simulator.state.callsTo('/auth/token/revoke').length, 1)
  })
})

describe('TS_AUTH_API=v1: the v2 proxy uses the held session too', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({ env: { TS_AUTH_API: 'v1' }, config: { proxy: { allow: ALLOW } } })
  })
  after(() => stack.close())

  it('mints with v1, logs in, and forwards v2 calls with the session cookie', async () => {
    const response = await stack.request
      .get('/ts/api/rest/2.0/auth/session/user')
      .set('Authorization', `Bearer ${await stack.jwt({ sub: 'old@acme.com' })}`)
    assert.equal(response.status, 200, response.text)
    assert.equal(response.body.name, 'old@acme.com')
    assert.deepEqual(
      stack.simulator.state.calls.map((call) => call.path),
      [
        '/callosum/v1/tspublic/v1/session/auth/token',
        '/callosum/v1/tspublic/v1/session/login/token',
        '/api/rest/2.0/auth/session/user',
      ],
    )
    const call = stack.simulator.state.calls.at(-1)
    assert.match(sessionCookieOf(call), /JSESSIONID=/)
    assert.equal(call?.headers.authorization, undefined)
  })
})
