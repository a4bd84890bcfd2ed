/**
 * GET /ts/auth/token end to end, asserting on what reached the simulator: exactly the mapped
 * groups and org, one mint per user and scope (cache, single-flight), no near-expiry token
 * handed out, fresh mints, object and custom tokens, v1 minting, and ThoughtSpot's refusals.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { GARBAGE_KINDS } from '../../src/simulator/server.js'
import { assertErrorShape, bearer } from '../helpers/http.js'
import { startStack, TEST_TS_SECRET, type Stack } from '../helpers/start.js'

const OBJECT_ID = '6e3c8c3a-1b2d-4c5e-9f00-0123456789ab'

async function bearerOf(
  stack: Stack,
  claims: Record<string, unknown>,
): Promise<Record<string, string>> {
  return bearer(await stack.jwt(claims))
}

describe('v2 token minting', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({
      mapping: `
default: { groups: [embed_viewers], orgId: 0 }
rules:
  - when: { claim: roles, includes: analyst }
    groups: [analysts]
  - when: { claim: email, endsWith: "@globex.com" }
    orgId: 42
  - when: { claim: roles, includes: viewer-only }
    accessLevel: REPORT_BOOK_VIEW
  - when: { claim: jit, equals: "off" }
    autoCreate: false
attributes:
  - { claim: region, column: Region, operator: IN }
  - { claim: tier, variable: customer_tier }
`,
    })
  })
  after(() => stack.close())
  beforeEach(() => stack.simulator.state.clearCalls())

  it('mints through auth/token/full with exactly the mapped groups, org and profile, and serves text/plain', async () => {
    const response = await stack.request.get('/ts/auth/token').set(
      await bearerOf(stack, {
        sub: 'ann@globex.com',
        email: 'ann@globex.com',
        name: 'Ann',
        roles: ['analyst'],
      }),
    )
    assert.equal(response.status, 200)
    assert.match(response.headers['content-type'] ?? '', /^text\/plain/)
    assert.equal(response.headers['cache-control'], 'no-store')
    const mints = stack.simulator.state.callsTo('/api/rest/2.0/auth/token/full')
    assert.equal(mints.length, 1)
    const body = mints[0]?.json as Record<string, unknown>
    assert.deepEqual(body, {
      username: 'ann@globex.com',
      secret_key: TEST_TS_SECRET,
      validity_time_in_sec: 300,
      auto_create: true,
      email: 'ann@globex.com',
      display_name: 'Ann',
      org_id: 42,
      group_identifiers: ['analysts', 'embed_viewers'],
    })
    const issued = stack.simulator.state.tokens.get(response.text)
    assert.ok(issued, 'the body is the token ThoughtSpot issued')
    assert.equal(issued.username, 'ann@globex.com')
    assert.deepEqual(stack.simulator.state.users.get('ann@globex.com')?.groups.sort(), [
      'analysts',
      'embed_viewers',
    ])
    assert.deepEqual(
      stack.simulator.state.createdGroups,
      [],
      'no unknown group reached ThoughtSpot',
    )
  })

  it('sends no email/display_name when the claims have none, and org_id 0 explicitly', async () => {
    await stack.request.get('/ts/auth/token').set(await bearerOf(stack, { sub: 'plain-user' }))
    const body = stack.simulator.state.callsTo('/auth/token/full')[0]?.json as Record<
      string,
      unknown
    >
    assert.equal(body.org_id, 0)
    assert.equal('email' in body, false)
    assert.equal('display_name' in body, false)
  })

  it('answers JSON when Accept prefers it', async () => {
    const response = await stack.request
      .get('/ts/auth/token')
      .set('Accept', 'application/json')
      .set(await bearerOf(stack, { sub: 'json-user' }))
    assert.equal(response.status, 200)
    assert.equal(response.body.username, 'json-user')
    assert.equal(typeof response.body.token, 'string')
    assert.equal(
      response.body.expiresAt,
      new Date(stack.simulator.state.tokens.get(response.body.token)!.expiresAt).toISOString(),
    )
  })

  it('serves the cached token on a second call without a new mint; only fresh=true forces one', async () => {
    const headers = await bearerOf(stack, { sub: 'cache-user' })
    const first = await stack.request.get('/ts/auth/token').set(headers)
    const second = await stack.request.get('/ts/auth/token').set(headers)
    assert.equal(second.text, first.text)
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 1)

    const forced = await stack.request.get('/ts/auth/token?fresh=true').set(headers)
    assert.notEqual(forced.text, first.text)
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 2)
    const cached = await stack.request.get('/ts/auth/token').set(headers)
    assert.equal(cached.text, forced.text, 'the forced mint refreshed the cache')
    // What a browser with DevTools' cache disabled sends on every request: never a mint.
    for (let i = 0; i < 5; i++) {
      const devtools = await stack.request
        .get('/ts/auth/token')
        .set(headers)
        .set('Cache-Control', 'no-cache')
        .set('Pragma', 'no-cache')
      assert.equal(devtools.text, forced.text)
    }
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 2)
  })

  it('makes exactly one mint for 50 concurrent first calls of one user', async () => {
    const headers = await bearerOf(stack, { sub: 'burst-user', roles: ['analyst'] })
    const counter = async (name: 'singleflightJoins' | 'tokenCacheHits'): Promise<number> =>
      (await stack.services.metrics[name].get()).values[0]?.value ?? 0
    const [joinsBefore, hitsBefore] = [
      await counter('singleflightJoins'),
      await counter('tokenCacheHits'),
    ]
    // A slow mint keeps the flight open while the others arrive (correctness does not depend on it).
    stack.simulator.state.setFault({
      mode: 'slow',
      delayMs: 300,
      paths: /auth\/token\/full/,
      times: 1,
    })
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => stack.request.get('/ts/auth/token').set(headers)),
    )
    assert.ok(responses.every((r) => r.status === 200))
    assert.equal(new Set(responses.map((r) => r.text)).size, 1)
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 1)
    const joins = (await counter('singleflightJoins')) - joinsBefore
    const hits = (await counter('tokenCacheHits')) - hitsBefore
    assert.equal(joins + hits, 49, 'every other caller joined the flight or hit the cache')
  })

  it('does not hand out a cached token with less than minRemainingSeconds left', async () => {
    const headers = await bearerOf(stack, { sub: 'expiry-user' })
    const first = await stack.request.get('/ts/auth/token').set(headers)
    stack.clock.advance((300 - 120 - 1) * 1000) // 121 s of life left: still served
    const still = await stack.request
      .get('/ts/auth/token')
      .set(await bearerOf(stack, { sub: 'expiry-user' }))
    assert.equal(still.text, first.text)
    stack.clock.advance(2000) // 119 s left: below the margin
    const renewed = await stack.request
      .get('/ts/auth/token')
      .set(await bearerOf(stack, { sub: 'expiry-user' }))
    assert.notEqual(renewed.text, first.text)
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 2)
    assert.ok(
      stack.simulator.state.tokens.get(renewed.text)!.expiresAt - stack.clock.now() >= 299_000,
    )
  })

  it('mints anew when the user’s mapping result changes (the cache key holds it)', async () => {
    const plain = await stack.request
      .get('/ts/auth/token')
      .set(await bearerOf(stack, { sub: 'mover' }))
    const promoted = await stack.request
      .get('/ts/auth/token')
      .set(await bearerOf(stack, { sub: 'mover', roles: ['analyst'] }))
    assert.notEqual(promoted.text, plain.text)
    const mints = stack.simulator.state.callsTo('/auth/token/full')
    assert.deepEqual((mints[1]?.json as { group_identifiers: string[] }).group_identifiers, [
      'analysts',
      'embed_viewers',
    ])
  })

  it('mints an object token for ?objectId= through auth/token/object, cached apart from the full token', async () => {
    const headers = await bearerOf(stack, { sub: 'obj-user' })
    const full = await stack.request.get('/ts/auth/token').set(headers)
    const scoped = await stack.request.get(`/ts/auth/token?objectId=${OBJECT_ID}`).set(headers)
    assert.equal(scoped.status, 200)
    assert.notEqual(scoped.text, full.text)
    const call = stack.simulator.state.callsTo('/auth/token/object')[0]
    assert.equal((call?.json as { object_id: string }).object_id, OBJECT_ID)
    assert.equal(stack.simulator.state.tokens.get(scoped.text)?.accessType, 'REPORT_BOOK_VIEW')
    const again = await stack.request
      .get(`/ts/auth/token?objectId=${OBJECT_ID.toUpperCase()}`)
      .set(headers)
    assert.equal(again.text, scoped.text)
  })

  it('refuses a bad objectId or fresh value with 400 BAD_REQUEST and mints nothing', async () => {
    const headers = await bearerOf(stack, { sub: 'bad-input' })
    for (const query of [
      'objectId=../../x',
      'objectId=',
      'objectId=a&objectId=b',
      'fresh=yes',
      'fresh=true&fresh=true',
    ]) {
      const response = await stack.request.get(`/ts/auth/token?${query}`).set(headers)
      assert.equal(response.status, 400, query)
      assert.equal(response.body.error.code, 'BAD_REQUEST')
    }
    assert.equal(stack.simulator.state.calls.length, 0)
  })

  it('gives REPORT_BOOK_VIEW users object tokens only', async () => {
    const headers = await bearerOf(stack, { sub: 'rbv-user', roles: ['viewer-only'] })
    const full = await stack.request.get('/ts/auth/token').set(headers)
    assert.equal(full.status, 403)
    assert.equal(full.body.error.code, 'DENIED')
    const scoped = await stack.request.get(`/ts/auth/token?objectId=${OBJECT_ID}`).set(headers)
    assert.equal(scoped.status, 200)
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 0)
  })

  it('sends autoCreate: false from the mapping, and ThoughtSpot’s refusal becomes 502 UPSTREAM_AUTH_FAILED without its body', async () => {
    const response = await stack.request
      .get('/ts/auth/token')
      .set(await bearerOf(stack, { sub: 'ghost', jit: 'off' }))
    const call = stack.simulator.state.callsTo('/auth/token/full')[0]
    assert.equal((call?.json as { auto_create: boolean }).auto_create, false)
    assert.equal(call?.status, 401, 'the simulator refused an unknown user without auto_create')
    assert.equal(response.status, 502)
    assert.equal(response.body.error.code, 'UPSTREAM_AUTH_FAILED')
    assert.doesNotMatch(response.text, new RegExp(TEST_TS_SECRET))
    assert.doesNotMatch(response.text, /10097|incident|ghost/)
  })

  it('mints attribute users through auth/token/custom with its own request shape', async () => {
    const response = await stack.request
      .get('/ts/auth/token')
      .set('Accept', 'application/json')
      .set(
        await bearerOf(stack, {
          sub: 'rls@globex.com',
          email: 'rls@globex.com',
          roles: ['analyst'],
          region: ['EMEA', 'APAC'],
          tier: 'gold',
        }),
      )
    assert.equal(response.status, 200, response.text)
    assert.equal(stack.simulator.state.callsTo('/auth/token/full').length, 0)
    const call = stack.simulator.state.callsTo('/auth/token/custom')[0]
    assert.deepEqual(call?.json, {
      username: 'rls@globex.com',
      secret_key: TEST_TS_SECRET,
      validity_time_in_sec: 300,
      auto_create: true,
      email: 'rls@globex.com',
      org_identifier: '42',
      persist_option: 'REPLACE',
      groups: [{ identifier: 'analysts' }, { identifier: 'embed_viewers' }],
      filter_rules: [{ column_name: 'Region', operator: 'IN', values: ['EMEA', 'APAC'] }],
      variable_values: [{ name: 'customer_tier', values: ['gold'] }],
    })
    const issued = stack.simulator.state.tokens.get(response.body.token)
    assert.equal(issued?.api, 'custom')
    assert.equal(
      response.body.expiresAt,
      new Date(issued!.expiresAt).toISOString(),
      'the AccessToken shape was normalised',
    )
  })

  it('records in the ledger only the claims that name the user and those the mapping reads', async () => {
    const response = await stack.request.get('/ts/auth/token').set(
      await bearerOf(stack, {
        sub: 'kept@acme.com',
        email: 'kept@acme.com',
        roles: ['analyst'],
        region: 'EU',
        picture: 'p'.repeat(2000),
        groups_from_idp: ['a', 'b', 'c'],
      }),
    )
    assert.equal(response.status, 200)
    const [entry] = await stack.services.stores.tokens.ledgerOf('kept@acme.com')
    assert.equal(entry?.token, response.text)
    assert.deepEqual(
      { ...entry?.claims },
      { sub: 'kept@acme.com', email: 'kept@acme.com', roles: ['analyst'], region: 'EU' },
    )
    assert.deepEqual(entry?.claimNames, ['email', 'jit', 'name', 'region', 'roles', 'sub', 'tier'])
  })

  it('persists row filters with a custom mint before handing an attribute user an object token', async () => {
    const headers = await bearerOf(stack, { sub: 'rls-obj', region: 'EMEA' })
    const response = await stack.request.get(`/ts/auth/token?objectId=${OBJECT_ID}`).set(headers)
    assert.equal(response.status, 200)
    const paths = stack.simulator.state.calls.map((call) => call.path)
    assert.deepEqual(paths, ['/api/rest/2.0/auth/token/custom', '/api/rest/2.0/auth/token/object'])
  })
})

describe('ThoughtSpot failures while minting', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({ config: { thoughtspot: { timeoutMs: 300 } } })
  })
  after(() => stack.close())
  beforeEach(() => {
    stack.simulator.state.clearFault()
    stack.simulator.state.clearCalls()
  })

  const cases: Array<
    [string, Parameters<Stack['simulator']['state']['setFault']>[0], number, string]
  > = [
    ['down', { mode: 'down' }, 502, 'UPSTREAM_UNAVAILABLE'],
    ['slow', { mode: 'slow', delayMs: 5000 }, 504, 'UPSTREAM_TIMEOUT'],
    ['401', { mode: 'unauthorized' }, 502, 'UPSTREAM_AUTH_FAILED'],
    ['500', { mode: 'error' }, 502, 'UPSTREAM_AUTH_FAILED'],
    ['429', { mode: 'rateLimited', retryAfterSeconds: 7 }, 429, 'RATE_LIMITED'],
    ['maintenance page', { mode: 'maintenance' }, 503, 'UPSTREAM_UNAVAILABLE'],
  ]
  for (const [name, fault, status, code] of cases) {
    it(`ThoughtSpot ${name} → ${status} ${code}, nothing cached, nothing leaked`, async () => {
      stack.simulator.state.setFault(fault)
      const headers = await bearerOf(stack, { sub: `fault-${name}` })
      const response = await stack.request.get('/ts/auth/token').set(headers)
      assert.equal(response.status, status, response.text)
      assert.equal(response.body.error.code, code)
      assert.doesNotMatch(response.text, new RegExp(TEST_TS_SECRET))
      assert.doesNotMatch(response.text, /Maintenance|10097|stack|at .*\.ts/)
      if (code === 'RATE_LIMITED') assert.equal(response.headers['retry-after'], '7')
      stack.simulator.state.clearFault()
      const recovered = await stack.request.get('/ts/auth/token').set(headers)
      assert.equal(recovered.status, 200, 'the failure was not cached')
    })
  }

  it('refuses mints past the per-user mint limit with 429, even for fresh=true', async () => {
    const limited = await startStack({ config: { rateLimits: { mintsPerUserPerMinute: 2 } } })
    try {
      const headers = await bearerOf(limited, { sub: 'eager' })
      assert.equal(
        (await limited.request.get('/ts/auth/token?fresh=true').set(headers)).status,
        200,
      )
      assert.equal(
        (await limited.request.get('/ts/auth/token?fresh=true').set(headers)).status,
        200,
      )
      const third = await limited.request.get('/ts/auth/token?fresh=true').set(headers)
      assert.equal(third.status, 429)
      assert.equal(third.body.error.code, 'RATE_LIMITED')
      assert.ok(Number(third.headers['retry-after']) >= 1)
      const cached = await limited.request.get('/ts/auth/token').set(headers)
      assert.equal(cached.status, 200, 'a cached token is still served without a mint')
      assert.equal(limited.simulator.state.callsTo('/auth/token/full').length, 2)
    } finally {
      await limited.close()
    }
  })

  // What ThoughtSpot answers to a mint is checked before anything is cached or handed out: a
  // broken answer is the mint failing, never a 500, and never a token every later call chokes on.
  // A 200 labelled as something other than JSON reads as a maintenance or error page (503,
  // like the maintenance fault); every other broken answer is the mint failing (502).
  const garbageAnswers: Record<(typeof GARBAGE_KINDS)[number], [number, string]> = {
    'truncated-json': [502, 'UPSTREAM_AUTH_FAILED'],
    'not-json': [502, 'UPSTREAM_AUTH_FAILED'],
    'wrong-type': [503, 'UPSTREAM_UNAVAILABLE'],
    binary: [502, 'UPSTREAM_AUTH_FAILED'],
    'error-not-json': [502, 'UPSTREAM_AUTH_FAILED'],
    'cut-off': [502, 'UPSTREAM_AUTH_FAILED'],
  }
  for (const kind of GARBAGE_KINDS) {
    const [status, code] = garbageAnswers[kind]
    it(`a mint answered with garbage (${kind}) is ${status} ${code}, nothing cached`, async () => {
      stack.simulator.state.setFault({ mode: 'garbage', garbage: kind, paths: /auth\/token/ })
      const headers = await bearerOf(stack, { sub: `garbage-${kind}` })
      const response = await stack.request.get('/ts/auth/token').set(headers)
      assertErrorShape(response, status, code)
      assert.doesNotMatch(response.text, /garbage|<b>|rows|NullPointer/)
      stack.simulator.state.clearFault()
      const recovered = await stack.request.get('/ts/auth/token').set(headers)
      assert.equal(recovered.status, 200, 'the failure was not cached')
    })
  }

  it('a minted token with whitespace, control or non-ASCII characters, or too long, is refused as a failed mint', async () => {
    const bad = [
      'token-with a-space-0123456789',
      'token-with-a-newline\r\nx-injected: 1',
      'token-with-a-control-\u0001-0123456789',
      'token-with-non-ascii-é-0123456789',
      `token-too-long-${'x'.repeat(8200)}`,
    ]
    for (const [index, token] of bad.entries()) {
      stack.simulator.state.mintQuirk = { token }
      const headers = await bearerOf(stack, { sub: `bad-token-${index}` })
      try {
        const response = await stack.request.get('/ts/auth/token').set(headers)
        assertErrorShape(response, 502, 'UPSTREAM_AUTH_FAILED')
        assert.ok(!response.text.includes(token.slice(0, 20)), 'the token is not echoed')
        const proxied = await stack.request.get('/ts/api/rest/2.0/auth/session/user').set(headers)
        assertErrorShape(proxied, 502, 'UPSTREAM_AUTH_FAILED')
      } finally {
        stack.simulator.state.mintQuirk = null
      }
      const recovered = await stack.request.get('/ts/auth/token').set(headers)
      assert.equal(recovered.status, 200, 'the bad token was not cached')
      assert.notEqual(recovered.text, token)
    }
  })

  it('a minted token already expired, or with less than minRemainingSeconds left, is refused', async () => {
    // The stack keeps the default tokens.minRemainingSeconds (120 s).
    for (const [index, lifeMs] of [-60_000, 0, 60_000].entries()) {
      stack.simulator.state.mintQuirk = { lifeMs }
      const headers = await bearerOf(stack, { sub: `short-life-${index}` })
      try {
        const response = await stack.request.get('/ts/auth/token').set(headers)
        assertErrorShape(response, 502, 'UPSTREAM_AUTH_FAILED')
        assert.match(response.body.error.message, /expires too soon|clocks/)
      } finally {
        stack.simulator.state.mintQuirk = null
      }
      const recovered = await stack.request.get('/ts/auth/token').set(headers)
      assert.equal(recovered.status, 200, 'nothing was cached')
    }
  })
})

describe('v1 token minting (TS_AUTH_API=v1)', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({ env: { TS_AUTH_API: 'v1' } })
  })
  after(() => stack.close())

  it('mints through session/auth/token with a form body, and the token logs in on ThoughtSpot', async () => {
    const response = await stack.request.get('/ts/auth/token').set(
      await bearerOf(stack, {
        sub: 'v1-user@globex.com',
        email: 'v1-user@globex.com',
        roles: ['analyst'],
      }),
    )
    assert.equal(response.status, 200, response.text)
    const call = stack.simulator.state.callsTo('/callosum/v1/tspublic/v1/session/auth/token')[0]
    assert.ok(call)
    assert.equal(call.headers['x-requested-by'], 'ThoughtSpot')
    assert.deepEqual(call.form, {
      username: 'v1-user@globex.com',
      access_level: 'FULL',
      orgid: '42',
      autocreate: 'true',
      groups: '["analysts","embed_viewers"]',
      email: 'v1-user@globex.com',
      secret_key: TEST_TS_SECRET,
    })
    const login = await fetch(
      `${stack.simulator.url}/callosum/v1/tspublic/v1/session/login/token`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-by': 'test' },
        body: new URLSearchParams({
          auth_token: response.text,
          no_url_redirection: 'true',
        }).toString(),
      },
    )
    assert.equal(login.status, 204)
  })

  it('refuses to start with attributes in the mapping, since v1 cannot mint row filters', async () => {
    await assert.rejects(
      startStack({
        env: { TS_AUTH_API: 'v1' },
        mapping: 'default: {}\nattributes:\n  - { claim: r, column: R }\n',
      }),
      /attributes need TS_AUTH_API=v2/,
    )
  })
})
