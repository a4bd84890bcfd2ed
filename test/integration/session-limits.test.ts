/**
 * Logins are not the way to run the process out of memory (issue 8 §1): logins are counted per
 * user on their own budget, each user has at most `session.maxPerUser` live sessions, the memory
 * store holds at most `session.memoryMaxSessions`, and a session stores only the claims that name
 * the user and those the mapping reads, bounded by `session.maxClaimsBytes`. A mapping reload
 * that reads a claim a session did not keep fails closed: 401, sign in again.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import type session from 'express-session'
import { assertErrorShape, bearer, HTTPS } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

/** The session id inside a signed `tsbff.sid=s:<id>.<signature>` cookie. */
function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
  return value.slice(2, value.lastIndexOf('.'))
}

function storedSession(stack: Stack, cookie: string): Promise<session.SessionData | null> {
  return new Promise((resolve, reject) => {
    stack.services.stores.sessions.store.get(sidOf(cookie), (err, found) =>
      err ? reject(err as Error) : resolve(found ?? null),
    )
  })
}

async function statusWith(stack: Stack, cookie: string): Promise<number> {
  return (await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)).status
}

async function loginResponse(stack: Stack, claims: Record<string, unknown>) {
  return stack.request
    .post('/ts/session')
    .set(HTTPS)
    .set(bearer(await stack.jwt(claims)))
}

describe('login budget and session caps', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({
      config: {
        rateLimits: { loginsPerUserPerMinute: 3 },
        session: { maxPerUser: 2, memoryMaxSessions: 6 },
      },
    })
  })
  after(() => stack.close())

  it('counts logins per user on a budget of their own: over it 429 with Retry-After, no session', async () => {
    const cookie = await stack.login({ sub: 'lim@acme.com' })
    await stack.login({ sub: 'lim@acme.com' })
    await stack.login({ sub: 'lim@acme.com' })
    const refused = await loginResponse(stack, { sub: 'lim@acme.com' })
    assertErrorShape(refused, 429, 'RATE_LIMITED')
    assert.match(refused.headers['retry-after'] ?? '', /^\d+$/)
    assert.equal(refused.headers['set-cookie'], undefined)
    // Other requests of the user are not logins, and other users have budgets of their own.
    assert.equal(await statusWith(stack, await stack.login({ sub: 'other@acme.com' })), 200)
    const again = await stack.request
      .get('/ts/session')
      .set(bearer(await stack.jwt({ sub: 'lim@acme.com' })))
    assert.equal(again.status, 200)
    assert.notEqual(cookie, '')
  })

  it('keeps at most session.maxPerUser live sessions per user, ending the oldest', async () => {
    const first = await stack.login({ sub: 'cap@acme.com' })
    const second = await stack.login({ sub: 'cap@acme.com' })
    const third = await stack.login({ sub: 'cap@acme.com' })
    assert.equal(await statusWith(stack, first), 401, 'the oldest session was ended')
    assert.equal(await storedSession(stack, first), null, 'and is gone from the store')
    assert.equal(await statusWith(stack, second), 200)
    assert.equal(await statusWith(stack, third), 200)
  })

  it('holds at most session.memoryMaxSessions sessions, dropping the least recently used', async () => {
    const cookies: string[] = []
    for (let i = 0; i < 6; i++) cookies.push(await stack.login({ sub: `lru-${i}@acme.com` }))
    // Use the first one, so the second is now the least recently used.
    assert.equal(await statusWith(stack, cookies[0] ?? ''), 200)
    await stack.login({ sub: 'lru-new@acme.com' })
    assert.equal(await statusWith(stack, cookies[1] ?? ''), 401, 'dropped for room')
    assert.equal(await statusWith(stack, cookies[0] ?? ''), 200, 'used lately: kept')
    const length = await new Promise<number>((resolve) =>
      stack.services.stores.sessions.store.length?.((_err, count) => resolve(count ?? -1)),
    )
    assert.equal(length, 6)
  })
})

describe('what a session stores', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({
      config: { session: { maxClaimsBytes: '1kb' } },
      mapping: `
default: { groups: [embed_viewers] }
rules:
  - when: { claim: realm_access.roles, includes: analyst }
    groups: [analysts]
  - when: { claim: status, equals: suspended }
    deny: true
`,
    })
  })
  after(() => stack.close())

  it('keeps only the claims naming the user and those the mapping reads, dotted paths as branches', async () => {
    const claims = {
      sub: 'slim@acme.com',
      email: 'slim@acme.com',
      name: 'Slim',
      realm_access: { roles: ['analyst'], internal: 'x'.repeat(2200) },
      picture: 'p'.repeat(2200),
      resource_access: { app: { roles: ['a', 'b'] } },
    }
    const jwt = await stack.jwt(claims)
    assert.ok(jwt.length > 6000, 'a JWT of the size the attack round saw')
    const response = await stack.request.post('/ts/session').set(HTTPS).set(bearer(jwt))
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(response.body.groups, ['analysts', 'embed_viewers'])
    const cookie = ((response.headers['set-cookie'] as unknown as string[])[0] ?? '').split(';')[0]
    const stored = await storedSession(stack, cookie ?? '')
    assert.deepEqual(stored?.user?.claims, {
      sub: 'slim@acme.com',
      email: 'slim@acme.com',
      name: 'Slim',
      realm_access: { roles: ['analyst'] },
    })
    assert.deepEqual(stored?.user?.claimNames, [
      'email',
      'name',
      'realm_access.roles',
      'status',
      'sub',
    ])
    assert.ok(JSON.stringify(stored).length < 1000, `${JSON.stringify(stored).length} bytes`)
    // The session works as the JWT did.
    const view = await stack.request
      .get('/ts/session')
      .set(HTTPS)
      .set('Cookie', cookie ?? '')
    assert.deepEqual(view.body.groups, ['analysts', 'embed_viewers'])
  })

  it('refuses a login whose kept claims exceed session.maxClaimsBytes, and stores nothing', async () => {
    const roles = Array.from({ length: 200 }, (_, i) => `role-${i}`)
    const count = () =>
      new Promise<number>((resolve) =>
        stack.services.stores.sessions.store.length?.((_err, n) => resolve(n ?? -1)),
      )
    const before = await count()
    const refused = await loginResponse(stack, {
      sub: 'big@acme.com',
      realm_access: { roles },
    })
    assertErrorShape(refused, 400, 'BAD_REQUEST')
    assert.match(refused.body.error.message, /bytes.*bearer/)
    assert.equal(refused.headers['set-cookie'], undefined)
    assert.equal(await count(), before)
    // The same user with the bearer JWT on each call is served.
    const viaBearer = await stack.request
      .get('/ts/session')
      .set(bearer(await stack.jwt({ sub: 'big@acme.com', realm_access: { roles } })))
    assert.equal(viaBearer.status, 200)
  })
})

describe('a reload that reads a claim a session did not keep', () => {
  let stack: Stack
  const MAPPING = 'default: { groups: [embed_viewers] }\n'
  before(async () => {
    stack = await startStack({
      mapping: MAPPING,
      config: {
        proxy: { allow: [{ method: 'POST', path: '/api/rest/2.0/metadata/search' }] },
      },
    })
  })
  after(() => stack.close())

  it('keeps sessions working when the new mapping reads nothing new', async () => {
    const cookie = await stack.login({ sub: 'steady@acme.com', status: 'active' })
    writeFileSync(stack.mappingFile, 'default: { groups: [embed_viewers, analysts] }\n')
    assert.equal(stack.services.mapping.reload(), true)
    const view = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(view.status, 200)
    assert.deepEqual(view.body.groups, ['analysts', 'embed_viewers'])
    writeFileSync(stack.mappingFile, MAPPING)
    assert.equal(stack.services.mapping.reload(), true)
  })

  it('answers 401 on every route rather than evaluate the session without the claim', async () => {
    // The login's mapping reads no `status`, so the session does not keep it.
    const cookie = await stack.login({ sub: 'sus@acme.com', status: 'suspended' })
    assert.equal(await statusWith(stack, cookie), 200)
    writeFileSync(
      stack.mappingFile,
      `${MAPPING}rules:\n  - when: { claim: status, equals: suspended }\n    deny: true\n`,
    )
    assert.equal(stack.services.mapping.reload(), true)
    stack.simulator.state.clearCalls()

    const requests = [
      stack.request.get('/ts/session'),
      stack.request.get('/ts/auth/token'),
      stack.request.post('/ts/api/rest/2.0/metadata/search').set('X-CSRF', '1').send({}),
    ]
    for (const pending of requests) {
      const response = await pending.set(HTTPS).set('Cookie', cookie)
      assertErrorShape(response, 401, 'UNAUTHENTICATED')
      assert.match(response.body.error.message, /sign in again/)
      assert.equal(response.headers['www-authenticate'], 'Bearer')
    }
    assert.equal(stack.simulator.state.calls.length, 0, 'nothing minted, nothing forwarded')
    const outdated = stack.logs.map((line) => JSON.parse(line) as Record<string, unknown>)
    assert.ok(outdated.some((line) => line.event === 'session.claims_outdated'))

    // Signing in again carries the claim, and the deny rule applies.
    const again = await loginResponse(stack, { sub: 'sus@acme.com', status: 'suspended' })
    assertErrorShape(again, 403, 'DENIED')
    // Logout still works for the outdated session (it needs no mapping).
    const logout = await stack.request
      .delete('/ts/session')
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('X-CSRF', '1')
    assert.equal(logout.status, 204)
  })
})
