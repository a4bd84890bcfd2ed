/**
 * The secret key, session secret, app JWTs and ThoughtSpot tokens never appear in a log line, an
 * error body or a response header; the ThoughtSpot token appears in a body only on
 * GET /ts/auth/token. This drives every route family, good and bad, then scans it all.
 */
import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import type { Response } from 'supertest'
import { HTTPS } from '../helpers/http.js'
import { startStack, TEST_SESSION_SECRET, TEST_TS_SECRET, type Stack } from '../helpers/start.js'
import { TEST_HS256_SECRET } from '../helpers/jwt.js'

let stack: Stack
before(async () => {
  stack = await startStack({ config: { thoughtspot: { timeoutMs: 300 } } })
})
after(() => stack.close())

it('keeps every secret and token out of logs, headers and error bodies', async () => {
  const responses: Array<{ label: string; response: Response }> = []
  const keep = (label: string, response: Response): Response => {
    responses.push({ label, response })
    return response
  }
  const claims = { sub: 'scan@acme.com', email: 'scan@acme.com', roles: ['analyst'] }
  const jwt = await stack.jwt(claims)
  const bearer = { Authorization: `Bearer ${jwt}` }

  keep('login', await stack.request.post('/ts/session').set(HTTPS).set(bearer))
  const cookie = await stack.login(claims)
  const token = keep(
    'token',
    await stack.request.get('/ts/auth/token').set(HTTPS).set('Cookie', cookie),
  )
  const tsToken = token.text
  assert.ok(tsToken.length > 10)
  const json = keep(
    'token json',
    await stack.request.get('/ts/auth/token').set(bearer).set('Accept', 'application/json'),
  )
  keep('fresh', await stack.request.get('/ts/auth/token?fresh=true').set(bearer))
  keep('session', await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie))
  keep('bad jwt', await stack.request.get('/ts/session').set('Authorization', `Bearer ${jwt}x`))
  keep(
    'expired jwt',
    await stack.request
      .get('/ts/session')
      .set('Authorization', `Bearer ${await stack.jwt(claims, { expiresIn: -100 })}`),
  )
  for (const mode of ['unauthorized', 'error', 'maintenance', 'down'] as const) {
    stack.simulator.state.setFault({ mode })
    keep(`mint ${mode}`, await stack.request.get('/ts/auth/token?fresh=true').set(bearer))
  }
  stack.simulator.state.clearFault()
  keep('logout no csrf', await stack.request.delete('/ts/session').set(HTTPS).set('Cookie', cookie))
  keep(
    'logout',
    await stack.request.delete('/ts/session').set(HTTPS).set('Cookie', cookie).set('X-CSRF', '1'),
  )

  const secrets: Array<[string, string]> = [
    ['trusted-auth secret key', TEST_TS_SECRET],
    ['session secret', TEST_SESSION_SECRET],
    ['identity HS256 secret', TEST_HS256_SECRET],
    ['app JWT', jwt],
    ['app JWT signature', jwt.split('.')[2] ?? 'x'],
    ['ThoughtSpot token', tsToken],
    ['JSON ThoughtSpot token', (json.body as { token: string }).token],
  ]
  const logText = stack.logs.join('')
  assert.ok(logText.includes('token.minted'), 'the audit lines were written')
  for (const [name, value] of secrets) {
    assert.equal(logText.includes(value), false, `${name} appears in a log line`)
    for (const { label, response } of responses) {
      const headers = JSON.stringify(response.headers)
      assert.equal(headers.includes(value), false, `${name} appears in a header of ${label}`)
      const isTokenBody =
        (label === 'token' || label === 'token json' || label === 'fresh') &&
        name.includes('ThoughtSpot token')
      if (!isTokenBody)
        assert.equal(
          response.text.includes(value),
          false,
          `${name} appears in the body of ${label}`,
        )
    }
  }
  // The audit line names user, groups, org, level, expiry and API — never the token.
  const audit = stack.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.event === 'token.minted')
  assert.ok(audit)
  for (const field of [
    'username',
    'groups',
    'orgId',
    'accessLevel',
    'expiresAt',
    'api',
    'requestId',
    'time',
  ]) {
    assert.ok(field in audit, `audit line has ${field}`)
  }
})

it('redacts credentials that reach a log call under a credential key', () => {
  stack.services.log.info(
    {
      authorization: 'Bearer leak-1',
      headers: { cookie: 'leak-2' },
      token: 'leak-3',
      nested: { secret_key: 'leak-4' },
    },
    'probe',
  )
  const last = stack.logs.at(-1) ?? ''
  for (const leak of ['leak-1', 'leak-2', 'leak-3', 'leak-4'])
    assert.equal(last.includes(leak), false, leak)
})
