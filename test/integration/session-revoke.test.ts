/**
 * Credentials that outlive their owner (issue 8 §2). Logout revokes every token minted for the
 * user while it lives, not only the one in the cache; a mapping reload that stops mapping a user
 * (denied, not mapped, limited to object tokens, or claims that can no longer be judged) revokes
 * their tokens upstream and ends the ThoughtSpot sessions held for them. Asserted on the
 * simulator's own token and session state.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, beforeEach, describe, it } from 'node:test'
import { bearer, HTTPS } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

const OBJECT_ID = '6e3c8c3a-1b2d-4c5e-9f00-0123456789ab'
const V1_INFO = '/callosum/v1/tspublic/v1/session/info'

async function tokenFor(
  stack: Stack,
  headers: Record<string, string>,
  query = '',
): Promise<string> {
  const response = await stack.request.get(`/ts/auth/token${query}`).set(HTTPS).set(headers)
  assert.equal(response.status, 200, response.text)
  return response.text
}

function revoked(stack: Stack, token: string): boolean | undefined {
  return stack.simulator.state.tokens.get(token)?.revoked
}

function auditLines(stack: Stack, reason: string): Array<Record<string, unknown>> {
  return stack.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.event === 'token.revoked' && line.reason === reason)
}

async function reloadWith(stack: Stack, mapping: string): Promise<void> {
  writeFileSync(stack.mappingFile, mapping)
  assert.equal(stack.services.mapping.reload(), true)
  await stack.services.sweep.idle()
}

describe('logout revokes every token minted for the user while it lives', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({ mapping: 'default: { groups: [embed_viewers] }\n' })
  })
  after(() => stack.close())

  it('a fresh=true mint, a replaced object token and a token from before a mapping change', async () => {
    const cookie = await stack.login({ sub: 'leaver@acme.com' })
    const headers = { Cookie: cookie }
    const first = await tokenFor(stack, headers)
    const forced = await tokenFor(stack, headers, '?fresh=true')
    const object = await tokenFor(stack, headers, `?objectId=${OBJECT_ID}`)
    const objectAgain = await tokenFor(stack, headers, `?objectId=${OBJECT_ID}&fresh=true`)
    // A mapping change keys the cache anew: the next request mints under the new mapping.
    await reloadWith(stack, 'default: { groups: [embed_viewers, analysts] }\n')
    const afterChange = await tokenFor(stack, headers)
    const all = [first, forced, object, objectAgain, afterChange]
    assert.equal(new Set(all).size, 5, 'five distinct tokens')
    assert.deepEqual(
      all.map((token) => revoked(stack, token)),
      [false, false, false, false, false],
      'the reload kept the still-mapped user’s tokens',
    )

    stack.simulator.state.clearCalls()
    const logout = await stack.request
      .delete('/ts/session')
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('X-CSRF', '1')
    assert.equal(logout.status, 204)
    assert.deepEqual(
      all.map((token) => revoked(stack, token)),
      [true, true, true, true, true],
    )
    assert.equal(stack.simulator.state.validTokensOf('leaver@acme.com').length, 0)
    const [line] = auditLines(stack, 'logout').filter((l) => l.username === 'leaver@acme.com')
    assert.equal(line?.tokensRevoked, 5)
    assert.equal(line?.revokeFailures, 0)
  })
})

describe('a mapping reload that stops mapping a user revokes their credentials', () => {
  const BEFORE = `
rules:
  - when: { claim: team, equals: red }
    groups: [analysts]
  - when: { claim: team, equals: blue }
    groups: [embed_viewers]
  - when: { claim: team, equals: green }
    groups: [embed_viewers]
  - when: { claim: team, equals: yellow }
    groups: [embed_viewers]
`
  const AFTER = `
rules:
  - when: { claim: team, equals: red }
    deny: true
  - when: { claim: team, equals: blue }
    groups: [embed_viewers]
  - when: { claim: team, equals: yellow }
    accessLevel: REPORT_BOOK_VIEW
`
  let stack: Stack
  before(async () => {
    stack = await startStack({
      mapping: BEFORE,
      config: { proxy: { allow: [{ method: 'GET', path: V1_INFO }] } },
    })
  })
  after(() => stack.close())
  beforeEach(() => stack.simulator.state.clearCalls())

  it('revokes the denied, the no longer mapped and the downgraded; ends held sessions; spares the rest', async () => {
    const as = async (sub: string, team: string) => bearer(await stack.jwt({ sub, team }))
    const red = await as('red@acme.com', 'red')
    const redToken = await tokenFor(stack, red)
    const v1 = await stack.request.get(`/ts${V1_INFO}`).set(red)
    assert.equal(v1.status, 200, v1.text)
    const [held] = [...stack.simulator.state.sessions.values()].filter(
      (s) => s.username === 'red@acme.com',
    )
    assert.ok(held, 'the BFF holds a ThoughtSpot session for red')
    const greenToken = await tokenFor(stack, await as('green@acme.com', 'green'))
    const yellowToken = await tokenFor(stack, await as('yellow@acme.com', 'yellow'))
    const blueToken = await tokenFor(stack, await as('blue@acme.com', 'blue'))
    // A cookie session is judged by the claims its tokens kept, like a bearer user.
    const blueCookie = await stack.login({ sub: 'blue2@acme.com', team: 'blue' })
    const blue2Token = await tokenFor(stack, { Cookie: blueCookie })
    stack.simulator.state.clearCalls()

    await reloadWith(stack, AFTER)

    assert.equal(revoked(stack, redToken), true, 'denied')
    assert.equal(revoked(stack, greenToken), true, 'no longer mapped')
    assert.equal(revoked(stack, yellowToken), true, 'now object tokens only')
    assert.equal(revoked(stack, blueToken), false, 'still mapped')
    assert.equal(revoked(stack, blue2Token), false, 'still mapped')
    const logouts = stack.simulator.state.callsTo('/callosum/v1/tspublic/v1/session/logout')
    assert.equal(logouts.length, 1)
    assert.match(String(logouts[0]?.headers.cookie), new RegExp(`JSESSIONID=${held.id}`))
    assert.equal(stack.simulator.state.sessions.has(held.id), false)
    const revokes = stack.simulator.state.callsTo('/auth/token/revoke')
    assert.equal(revokes.length, 3, 'one revocation per refused token, nothing for the others')

    const lines = auditLines(stack, 'mapping-change')
    assert.deepEqual(lines.map((l) => l.username).sort(), [
      'green@acme.com',
      'red@acme.com',
      'yellow@acme.com',
    ])
    const redLine = lines.find((l) => l.username === 'red@acme.com')
    assert.deepEqual([redLine?.tokensRevoked, redLine?.sessionsEnded], [1, 1])
    assert.match(String(redLine?.requestId), /^mapping-reload:/)
    for (const line of stack.logs) assert.equal(line.includes(redToken), false, 'no token logged')

    // The BFF refuses them as well: the denied user cannot mint again.
    const again = await stack.request.get('/ts/auth/token').set(red)
    assert.equal(again.status, 403)
  })

  it('is idempotent: a reload that changes nothing, or nothing for anyone, revokes nothing more', async () => {
    await reloadWith(stack, AFTER)
    await reloadWith(
      stack,
      `${AFTER}  - when: { claim: team, equals: purple }\n    groups: [analysts]\n`,
    )
    assert.equal(stack.simulator.state.callsTo('/auth/token/revoke').length, 0)
    assert.equal(stack.simulator.state.callsTo('/session/logout').length, 0)
  })
})

describe('a reload that reads a claim the ledger did not keep fails closed', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({ mapping: 'default: { groups: [embed_viewers] }\n' })
  })
  after(() => stack.close())

  it('revokes tokens it cannot judge; the user mints again, and is judged from then on', async () => {
    const headers = bearer(await stack.jwt({ sub: 'unknown@acme.com', status: 'active' }))
    const token = await tokenFor(stack, headers)
    const deny =
      'default: { groups: [embed_viewers] }\nrules:\n  - when: { claim: status, equals: suspended }\n    deny: true\n'
    await reloadWith(stack, deny)
    assert.equal(revoked(stack, token), true, 'its claims say nothing of status: revoked')

    const fresh = await tokenFor(stack, headers)
    assert.notEqual(fresh, token)
    await reloadWith(stack, deny.replace('[embed_viewers]', '[embed_viewers, analysts]'))
    assert.equal(revoked(stack, fresh), false, 'its claims now answer for status: still mapped')
  })
})
