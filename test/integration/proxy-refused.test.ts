/**
 * The always-refused routes through a broad allowlist (issue 8 §5): wherever their segments
 * appear in the path, in any case or with a suffix, the call is 403 ROUTE_NOT_ALLOWED and never
 * reaches ThoughtSpot, whatever a `/**` rule says.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, it } from 'node:test'
import { assertErrorShape, bearer } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

let stack: Stack
let auth: Record<string, string>
before(async () => {
  stack = await startStack({
    config: {
      proxy: {
        allow: [
          { method: '*', path: '/callosum/v1/**' },
          { method: '*', path: '/api/rest/2.0/**' },
        ],
      },
    },
  })
  auth = bearer(await stack.jwt({ sub: 'alice@acme.com' }))
})
after(() => stack.close())
beforeEach(() => stack.simulator.state.clearCalls())

const REFUSED = [
  '/callosum/v1/tspublic/v1/tspublic/v1/session/auth/token',
  '/callosum/v1/tspublic/v1/session/auth/Token.json',
  '/callosum/v1/v2/auth/token/full',
  '/callosum/v1/tspublic/rest/v2/auth/token/full',
  '/api/rest/2.0/api/rest/2.0/auth/token/full',
  '/api/rest/2.0/x/auth/session/token',
  '/api/rest/2.0/AUTH/Configure',
]

for (const path of REFUSED) {
  it(`POST /ts${path} is 403 ROUTE_NOT_ALLOWED and never forwarded`, async () => {
    const response = await stack.request
      .post(`/ts${path}`)
      .set(auth)
      .type('form')
      .send({ username: 'alice@acme.com', secret_key: 'guess' })
    assertErrorShape(response, 403, 'ROUTE_NOT_ALLOWED')
    const forwarded = stack.simulator.state.calls.filter((call) => call.path === path)
    assert.equal(forwarded.length, 0, `${path} reached ThoughtSpot`)
  })
}

it('a neighbour under the same broad rule is forwarded', async () => {
  const response = await stack.request.get('/ts/callosum/v1/tspublic/v1/session/info').set(auth)
  assert.equal(response.status, 200, response.text)
  assert.equal(stack.simulator.state.callsTo('/tspublic/v1/session/info').length, 1)
})
