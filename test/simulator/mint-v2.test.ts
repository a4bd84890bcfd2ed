/**
 * The simulator over real HTTP: REST v2 trusted-auth mints (token/full, object, custom) and token lifetimes.
 * Each test starts its own simulator and closes it (t.after).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CATALOGUE } from '../../src/simulator/server.js'
import {
  SECRET,
  V2,
  V1,
  T0,
  fakeClock,
  start,
  post,
  get,
  postForm,
  bearer,
  mintFull,
  errorCode,
} from './helpers.js'

describe('v2 trusted auth: token/full', () => {
  it('mints a token that session/user accepts', async (t) => {
    const clock = fakeClock()
    const sim = await start(t, { now: clock.now })
    const res = await post(sim, `${V2}/auth/token/full`, {
      username: 'alice',
      secret_key: SECRET,
      auto_create: true,
      email: 'alice@example.com',
      display_name: 'Alice',
      validity_time_in_sec: 600,
      group_identifiers: ['analysts'],
    })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    const body = (await res.json()) as Record<string, unknown>
    const user = sim.state.users.get('alice')!
    assert.deepEqual(body, {
      token: body.token,
      creation_time_in_millis: T0,
      expiration_time_in_millis: T0 + 600_000,
      scope: { access_type: 'FULL', org_id: 0, metadata_id: null },
      valid_for_user_id: user.id,
      valid_for_username: 'alice',
    })
    assert.equal(typeof body.token, 'string')
    assert.equal(user.accountType, 'REMOTE_USER')

    const me = await get(sim, `${V2}/auth/session/user`, bearer(body.token as string))
    assert.equal(me.status, 200)
    const profile = (await me.json()) as Record<string, unknown>
    assert.equal(profile.name, 'alice')
    assert.equal(profile.display_name, 'Alice')
    assert.equal(profile.email, 'alice@example.com')
    assert.equal(profile.account_type, 'REMOTE_USER')
    assert.equal(profile.account_status, 'ACTIVE')
    assert.deepEqual(profile.current_org, { id: 0, name: 'Primary' })
    assert.deepEqual(
      (profile.user_groups as { name: string }[]).map((group) => group.name),
      ['analysts'],
    )
    assert.equal(profile.expiration_time_in_millis, T0 + 600_000)
    assert.equal(sim.state.tokens.get(body.token as string)?.api, 'full')
  })

  it('refuses a wrong secret with 401 and never echoes a secret', async (t) => {
    const sim = await start(t)
    const wrong = 'not-the-secret-0042'
    const res = await post(sim, `${V2}/auth/token/full`, { username: 'alice', secret_key: wrong })
    assert.equal(res.status, 401)
    const text = await res.text()
    assert.equal(JSON.parse(text).error.message.code, 10097)
    assert.ok(!text.includes(wrong))
    assert.ok(!text.includes(SECRET))
    assert.equal(sim.state.tokens.size, 0)
  })

  it('never writes the secret to its log lines', async (t) => {
    const sim = await start(t, { quiet: false })
    const lines: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    t.mock.method(process.stdout, 'write', (chunk: string | Uint8Array, ...rest: never[]) => {
      lines.push(String(chunk))
      return write(chunk, ...rest)
    })
    await mintFull(sim)
    await post(sim, `${V2}/auth/token/full`, { username: 'x', secret_key: `${SECRET}-wrong` })
    await postForm(sim, `${V1}/session/auth/token`, { username: 'alice', secret_key: SECRET })
    t.mock.restoreAll()
    assert.ok(lines.some((line) => line.includes('/auth/token/full 200')))
    assert.ok(lines.every((line) => !line.includes(SECRET)))
  })

  it('answers 400 for a missing username, wrong types and no credential', async (t) => {
    const sim = await start(t)
    const cases: Record<string, unknown>[] = [
      { secret_key: SECRET },
      { username: '', secret_key: SECRET },
      { username: 'a'.repeat(256), secret_key: SECRET },
      { username: 42, secret_key: SECRET },
      { username: 'alice', secret_key: SECRET, validity_time_in_sec: '300' },
      { username: 'alice', secret_key: SECRET, validity_time_in_sec: 0 },
      { username: 'alice', secret_key: SECRET, validity_time_in_sec: 1.5 },
      { username: 'alice', secret_key: SECRET, org_id: '0' },
      { username: 'alice', secret_key: SECRET, auto_create: 'true' },
      { username: 'alice', secret_key: SECRET, group_identifiers: 'analysts' },
      { username: 'alice', secret_key: SECRET, auto_create: true, group_identifiers: [1] },
    ]
    for (const body of cases) {
      const res = await post(sim, `${V2}/auth/token/full`, body)
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal(await errorCode(res), 10002)
    }
    const none = await post(sim, `${V2}/auth/token/full`, { username: 'alice' })
    assert.equal(none.status, 400)
    const text = await none.text()
    assert.match(text, /Either secret_key or password must be provided/)
    assert.equal(sim.state.users.size, 0)
  })

  it('does not support passwords: a password-only mint is 401', async (t) => {
    const sim = await start(t)
    sim.state.addUser({ name: 'alice' })
    const res = await post(sim, `${V2}/auth/token/full`, { username: 'alice', password: 'pw' })
    assert.equal(res.status, 401)
  })

  it('answers 415 for non-JSON, 400 for malformed JSON; ignores unknown fields', async (t) => {
    const sim = await start(t)
    const form = await fetch(`${sim.url}${V2}/auth/token/full`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=alice&secret_key=${SECRET}`,
    })
    assert.equal(form.status, 415)
    const broken = await fetch(`${sim.url}${V2}/auth/token/full`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username": "alice",',
    })
    assert.equal(broken.status, 400)
    const extra = await post(sim, `${V2}/auth/token/full`, {
      username: 'alice',
      secret_key: SECRET,
      auto_create: true,
      something_new: { nested: true },
    })
    assert.equal(extra.status, 200)
  })

  it('refuses an unknown user unless auto_create is true', async (t) => {
    const sim = await start(t)
    for (const autoCreate of [false, undefined]) {
      const res = await post(sim, `${V2}/auth/token/full`, {
        username: 'nobody',
        secret_key: SECRET,
        auto_create: autoCreate,
      })
      assert.equal(res.status, 401)
      assert.equal(await errorCode(res), 10097)
    }
    assert.equal(sim.state.users.size, 0)
    sim.state.addUser({ name: 'bob', groups: ['analysts'] })
    const res = await post(sim, `${V2}/auth/token/full`, { username: 'bob', secret_key: SECRET })
    assert.equal(res.status, 200)
  })

  it('replaces groups on auto_create mints and records the unknown ones it creates', async (t) => {
    const sim = await start(t)
    await mintFull(sim, { group_identifiers: ['analysts', 'ghost_group'] })
    const user = sim.state.users.get('alice')!
    assert.deepEqual(user.groups, ['analysts', 'ghost_group'])
    assert.deepEqual(sim.state.createdGroups, ['ghost_group'])

    await mintFull(sim, { group_identifiers: ['executives'] })
    assert.deepEqual(user.groups, ['executives'])
    await mintFull(sim, {})
    assert.deepEqual(user.groups, ['executives'], 'omitted keeps the groups')
    await mintFull(sim, { auto_create: false, group_identifiers: ['analysts'] })
    assert.deepEqual(user.groups, ['executives'], 'without auto_create nothing changes')
    await mintFull(sim, { group_identifiers: [] })
    assert.deepEqual(user.groups, [], '[] removes every group')
    assert.deepEqual(sim.state.createdGroups, ['ghost_group'])
  })

  it('checks org_id: unknown → 400, not a member without auto_create → 403', async (t) => {
    const sim = await start(t, { orgs: [7] })
    const unknown = await post(sim, `${V2}/auth/token/full`, {
      username: 'alice',
      secret_key: SECRET,
      auto_create: true,
      org_id: 99,
    })
    assert.equal(unknown.status, 400)
    await mintFull(sim)
    const notMember = await post(sim, `${V2}/auth/token/full`, {
      username: 'alice',
      secret_key: SECRET,
      org_id: 7,
    })
    assert.equal(notMember.status, 403)
    assert.equal(await errorCode(notMember), 10023)
    const joined = await post(sim, `${V2}/auth/token/full`, {
      username: 'alice',
      secret_key: SECRET,
      auto_create: true,
      org_id: 7,
    })
    assert.equal(joined.status, 200)
    const body = (await joined.json()) as { scope: { org_id: number } }
    assert.equal(body.scope.org_id, 7)
    assert.deepEqual(sim.state.users.get('alice')!.orgIds, [0, 7])
  })
})

describe('v2 trusted auth: token/object and token/custom', () => {
  it('mints an object token that only reaches its object', async (t) => {
    const sim = await start(t)
    const [liveboard, other] = CATALOGUE
    const missing = await post(sim, `${V2}/auth/token/object`, {
      username: 'alice',
      secret_key: SECRET,
      auto_create: true,
    })
    assert.equal(missing.status, 400)
    const res = await post(sim, `${V2}/auth/token/object`, {
      username: 'alice',
      secret_key: SECRET,
      auto_create: true,
      object_id: liveboard!.id,
    })
    assert.equal(res.status, 200)
    const body = (await res.json()) as { token: string; scope: unknown }
    assert.deepEqual(body.scope, {
      access_type: 'REPORT_BOOK_VIEW',
      org_id: 0,
      metadata_id: liveboard!.id,
    })
    const own = await post(
      sim,
      `${V2}/metadata/liveboard/data`,
      { metadata_identifier: liveboard!.id },
      bearer(body.token),
    )
    assert.equal(own.status, 200)
    const foreign = await post(
      sim,
      `${V2}/metadata/liveboard/data`,
      { metadata_identifier: other!.id },
      bearer(body.token),
    )
    assert.equal(foreign.status, 403)
    assert.equal(await errorCode(foreign), 10023)
    const search = await post(sim, `${V2}/metadata/search`, {}, bearer(body.token))
    const found = (await search.json()) as { metadata_id: string }[]
    assert.deepEqual(
      found.map((item) => item.metadata_id),
      [liveboard!.id],
    )
  })

  it('refuses custom requests with the wrong shapes', async (t) => {
    const sim = await start(t)
    const base = { username: 'carol', secret_key: SECRET, persist_option: 'REPLACE' }
    const cases: Record<string, unknown>[] = [
      { ...base, org_identifier: 0 },
      { ...base, groups: ['analysts'] },
      { ...base, persist_option: 'RESET', variable_values: [{ name: 'tier', values: ['gold'] }] },
      { ...base, persist_option: 'NONE', variable_values: [] },
      { ...base, persist_option: 'SOMETIMES' },
      { username: 'carol', secret_key: SECRET },
      { ...base, filter_rules: [{ column_name: 'Region', operator: 'ALMOST', values: ['EU'] }] },
      { ...base, filter_rules: [{ column_name: 'Region', operator: 'IN', values: 'EU' }] },
      { ...base, variable_values: [{ name: 'tier', values: [{ nested: 1 }] }] },
      { ...base, org_identifier: 'no-such-org' },
    ]
    for (const body of cases) {
      const res = await post(sim, `${V2}/auth/token/custom`, body)
      assert.equal(res.status, 400, JSON.stringify(body))
    }
    assert.equal(sim.state.users.size, 0)
    assert.equal(sim.state.tokens.size, 0)
  })

  it('answers the AccessToken shape; assigns groups only when creating the user', async (t) => {
    const clock = fakeClock()
    const sim = await start(t, { now: clock.now, orgs: [42] })
    const res = await post(sim, `${V2}/auth/token/custom`, {
      username: 'carol',
      secret_key: SECRET,
      persist_option: 'APPEND',
      org_identifier: '42',
      groups: [{ identifier: 'analysts' }],
      filter_rules: [{ column_name: 'Region', operator: 'IN', values: ['EU', 'US'] }],
      variable_values: [{ name: 'tier', values: ['gold', 3, true] }],
    })
    assert.equal(res.status, 200)
    const body = (await res.json()) as Record<string, unknown>
    const user = sim.state.users.get('carol')!
    assert.deepEqual(Object.keys(body).sort(), [
      'creation_time_in_millis',
      'expiration_time_in_millis',
      'id',
      'org',
      'token',
      'user',
    ])
    assert.deepEqual(body.org, { id: 42, name: 'Org 42' })
    assert.deepEqual(body.user, { id: user.id, name: 'carol' })
    assert.equal(body.expiration_time_in_millis, T0 + 300_000)
    assert.deepEqual(user.groups, ['analysts'])
    const token = sim.state.tokens.get(body.token as string)!
    assert.equal(token.api, 'custom')
    assert.equal(token.persistOption, 'APPEND')
    assert.deepEqual(token.filterRules, [
      { column_name: 'Region', operator: 'IN', values: ['EU', 'US'] },
    ])
    assert.deepEqual(token.variableValues, [{ name: 'tier', values: ['gold', 3, true] }])

    const again = await post(sim, `${V2}/auth/token/custom`, {
      username: 'carol',
      secret_key: SECRET,
      persist_option: 'REPLACE',
      org_identifier: '42',
      email: 'new@example.com',
      groups: [{ identifier: 'executives' }, { identifier: 'brand_new' }],
    })
    assert.equal(again.status, 200)
    assert.deepEqual(user.groups, ['analysts'], 'existing users are not updated')
    assert.equal(user.email, undefined)
    assert.deepEqual(sim.state.createdGroups, [])

    const refused = await post(sim, `${V2}/auth/token/custom`, {
      username: 'dave',
      secret_key: SECRET,
      persist_option: 'REPLACE',
      auto_create: false,
    })
    assert.equal(refused.status, 401)
  })
})

describe('v2 token lifetime', () => {
  it('answers 401 (10097) once the token has expired by the clock', async (t) => {
    const clock = fakeClock()
    const sim = await start(t, { now: clock.now })
    const { token } = await mintFull(sim, { validity_time_in_sec: 60 })
    const valid = await post(sim, `${V2}/auth/token/validate`, { token }, bearer(token))
    assert.equal(valid.status, 200)
    assert.equal(((await valid.json()) as { token_type: string }).token_type, 'BEARER')
    clock.advance(59_999)
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(token))).status, 200)
    clock.advance(1)
    const expired = await get(sim, `${V2}/auth/session/user`, bearer(token))
    assert.equal(expired.status, 401)
    assert.equal(await errorCode(expired), 10097)
    const data = await post(
      sim,
      `${V2}/searchdata`,
      { logical_table_identifier: 't', query_string: '[Region]' },
      bearer(token),
    )
    assert.equal(data.status, 401)
    const { token: fresh } = await mintFull(sim)
    const check = await post(sim, `${V2}/auth/token/validate`, { token }, bearer(fresh))
    assert.equal(check.status, 400)
    assert.equal(await errorCode(check), 10002)
  })

  it('expireToken() and unknown tokens give 401', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    assert.equal(sim.state.validTokensOf('alice').length, 1)
    assert.ok(sim.state.expireToken(token))
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(token))).status, 401)
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer('made-up'))).status, 401)
    assert.equal((await get(sim, `${V2}/auth/session/user`)).status, 401)
    assert.equal(sim.state.validTokensOf('alice').length, 0)
  })

  it('revokes a token: 204, then 401; refuses other users and empty requests', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const { token: second } = await mintFull(sim)
    const { token: bobs } = await mintFull(sim, { username: 'bob' })
    assert.equal((await post(sim, `${V2}/auth/token/revoke`, { token })).status, 401)
    assert.equal((await post(sim, `${V2}/auth/token/revoke`, {}, bearer(token))).status, 400)
    const foreign = await post(sim, `${V2}/auth/token/revoke`, { token: bobs }, bearer(token))
    assert.equal(foreign.status, 403)
    const foreignUser = await post(
      sim,
      `${V2}/auth/token/revoke`,
      { user_identifier: 'bob' },
      bearer(token),
    )
    assert.equal(foreignUser.status, 403)

    const res = await post(sim, `${V2}/auth/token/revoke`, { token }, bearer(second))
    assert.equal(res.status, 204)
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(token))).status, 401)
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(second))).status, 200)
    const all = await post(
      sim,
      `${V2}/auth/token/revoke`,
      { user_identifier: 'alice' },
      bearer(second),
    )
    assert.equal(all.status, 204)
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(second))).status, 401)
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(bobs))).status, 200)
    sim.state.revokeTokensOf('bob')
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(bobs))).status, 401)
  })

  it('session/token turns a token into a new 24-hour one', async (t) => {
    const clock = fakeClock()
    const sim = await start(t, { now: clock.now })
    const { token } = await mintFull(sim)
    const res = await get(sim, `${V2}/auth/session/token`, bearer(token))
    assert.equal(res.status, 200)
    const body = (await res.json()) as { token: string; expiration_time_in_millis: number }
    assert.notEqual(body.token, token)
    assert.equal(body.expiration_time_in_millis, T0 + 24 * 60 * 60 * 1000)
    assert.equal((await get(sim, `${V2}/auth/session/token`)).status, 401)
  })
})
