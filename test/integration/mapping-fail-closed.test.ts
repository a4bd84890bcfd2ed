/**
 * Issue 8 §1 and §3 through the real app and simulator: a row-filter claim that cannot be used
 * refuses the user before anything reaches ThoughtSpot; a `matches` pattern with nested
 * quantifiers does not stall requests on a crafted claim; usernames with invisible characters
 * are refused and composed ones normalised before they reach a mint.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { startStack, type Stack } from '../helpers/start.js'

const MAPPING = `
default: { groups: [embed_viewers], orgId: 0 }
rules:
  - when: { claim: team, matches: "^(a+)+$" }
    groups: [analysts]
  - when: { claim: status, equals: suspended }
    deny: true
attributes:
  - { claim: region, column: Region, operator: IN }
  - { claim: tier, variable: customer_tier }
`

let stack: Stack
before(async () => {
  stack = await startStack({ mapping: MAPPING })
})
after(() => stack.close())
beforeEach(() => stack.simulator.state.clearCalls())

async function bearer(claims: Record<string, unknown>): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await stack.jwt(claims)}` }
}

const mints = (): number => stack.simulator.state.callsTo(/\/auth\/token\//).length

function loggedDenials(username: string): Array<Record<string, unknown>> {
  return stack.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.event === 'mapping.denied' && entry.username === username)
}

describe('row-filter claims that cannot be used', () => {
  const unusable: Array<[string, unknown]> = [
    ['an object', { name: 'EMEA' }],
    ['an empty list', []],
    ['a list of objects', [{ name: 'EMEA' }]],
    ['a mixed list', ['EMEA', { name: 'APAC' }]],
    ['null', null],
  ]
  for (const [name, region] of unusable) {
    it(`refuses a user whose region claim is ${name}: 403 DENIED, no mint, reason logged`, async () => {
      const sub = `rls-${name.replace(/\W+/g, '-')}`
      const response = await stack.request.get('/ts/auth/token').set(await bearer({ sub, region }))
      assert.equal(response.status, 403, response.text)
      assert.equal(response.body.error.code, 'DENIED')
      assert.equal(mints(), 0, 'nothing reached ThoughtSpot')
      const [logged] = loggedDenials(sub)
      assert.equal(logged?.reason, 'attribute')
      assert.equal(logged?.claim, 'region')
      assert.equal(logged?.level, 'warn')
      assert.equal(
        logged?.requestId,
        response.headers['x-request-id'],
        'the line names its request',
      )
    })
  }

  it('refuses the same user on a proxied call and at login (no session is made)', async () => {
    const headers = await bearer({ sub: 'rls-proxy', tier: [] })
    const proxied = await stack.request
      .post('/ts/api/rest/2.0/searchdata')
      .set(headers)
      .send({ query_string: 'x' })
    assert.equal(proxied.status, 403)
    assert.equal(proxied.body.error.code, 'DENIED')
    const login = await stack.request
      .post('/ts/session')
      .set(headers)
      .set('X-Forwarded-Proto', 'https')
    assert.equal(login.status, 403)
    assert.equal(login.headers['set-cookie'], undefined)
    assert.equal(stack.simulator.state.calls.length, 0, 'nothing at all reached ThoughtSpot')
  })

  it('a usable claim still mints through auth/token/custom; a missing one through full', async () => {
    const filtered = await stack.request
      .get('/ts/auth/token')
      .set(await bearer({ sub: 'rls-ok', region: ['EMEA', 'APAC'] }))
    assert.equal(filtered.status, 200, filtered.text)
    const custom = stack.simulator.state.callsTo('/auth/token/custom')
    assert.equal(custom.length, 1)
    assert.deepEqual((custom[0]?.json as { filter_rules: unknown }).filter_rules, [
      { column_name: 'Region', operator: 'IN', values: ['EMEA', 'APAC'] },
    ])
    const unfiltered = await stack.request.get('/ts/auth/token').set(await bearer({ sub: 'plain' }))
    assert.equal(unfiltered.status, 200)
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 1)
  })
})

describe('a nested-quantifier pattern against a crafted claim', () => {
  it('answers at once and keeps serving (RegExp would backtrack for ages)', async () => {
    const headers = await bearer({ sub: 'redos', team: `${'a'.repeat(3000)}!` })
    const [session, health] = await Promise.all([
      stack.request.get('/ts/session').set(headers),
      stack.request.get('/healthz'),
    ])
    assert.equal(session.status, 200, session.text)
    assert.deepEqual(session.body.groups, ['embed_viewers'], 'the crafted claim does not match')
    assert.equal(health.status, 200)
    const matching = await stack.request
      .get('/ts/session')
      .set(await bearer({ sub: 'redos-ok', team: 'a'.repeat(3000) }))
    assert.deepEqual(matching.body.groups, ['analysts', 'embed_viewers'])
  })
})

describe('usernames', () => {
  for (const [name, sub] of [
    ['a zero-width space', 'ann\u200b@acme.com'],
    ['a no-break space', 'ann\u00a0smith'],
    ['a tag character', 'ann\u{e0041}'],
    ['a soft hyphen', 'an\u00adn'],
  ] as const) {
    it(`refuses one with ${name}: 401 INVALID_TOKEN, nothing minted`, async () => {
      const response = await stack.request.get('/ts/auth/token').set(await bearer({ sub }))
      assert.equal(response.status, 401)
      assert.equal(response.body.error.code, 'INVALID_TOKEN')
      assert.equal(mints(), 0)
    })
  }

  it('mints a decomposed username as its NFC form', async () => {
    const response = await stack.request
      .get('/ts/auth/token')
      .set(await bearer({ sub: 'zoe\u0301@acme.com' }))
    assert.equal(response.status, 200, response.text)
    const [mint] = stack.simulator.state.callsTo('/auth/token/full')
    assert.equal((mint?.json as { username: string }).username, 'zo\u00e9@acme.com')
  })
})
