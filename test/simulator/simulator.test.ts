/**
 * The simulator itself, over real HTTP: every rule it enforces, the recorder, the fault switch
 * and clean shutdown. Each test starts its own simulator and closes it (t.after).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  CATALOGUE,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/server.js'

const SECRET = 'sim-test-secret-7f3a91'
const V2 = '/api/rest/2.0'
const V1 = '/callosum/v1/tspublic/v1'
const T0 = 1_700_000_000_000

/** A controllable clock for expiry tests. */
function fakeClock() {
  let now = T0
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

async function start(t: TestContext, options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({ secretKey: SECRET, quiet: true, ...options })
  t.after(() => sim.close())
  return sim
}

function post(sim: Simulator, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(sim.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

function get(sim: Simulator, path: string, headers: Record<string, string> = {}) {
  return fetch(sim.url + path, { headers })
}

function postForm(sim: Simulator, path: string, fields: Record<string, string>, query = '') {
  return fetch(`${sim.url}${path}${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-by': 'test' },
    body: new URLSearchParams(fields).toString(),
  })
}

/** A GET whose path goes on the wire unchanged (fetch would normalise dot segments). */
function rawGet(sim: Simulator, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(sim.url)
    const req = request({ hostname, port, path }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode ?? 0))
    })
    req.once('error', reject)
    req.end()
  })
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

async function mintFull(sim: Simulator, fields: Record<string, unknown> = {}) {
  const res = await post(sim, `${V2}/auth/token/full`, {
    username: 'alice',
    secret_key: SECRET,
    auto_create: true,
    ...fields,
  })
  assert.equal(res.status, 200)
  return (await res.json()) as { token: string; expiration_time_in_millis: number }
}

/** The ThoughtSpot v2 error code of a response. */
async function errorCode(res: Response): Promise<number> {
  const body = (await res.json()) as { error: { message: { code: number } } }
  return body.error.message.code
}

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

describe('v2 data endpoints', () => {
  it('serves deterministic search data and requires its fields', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const body = { logical_table_identifier: 'retail', query_string: '[Region] [Sales]' }
    const first = await post(sim, `${V2}/searchdata`, body, bearer(token))
    assert.equal(first.status, 200)
    const data = (await first.json()) as {
      contents: {
        column_names: string[]
        data_rows: unknown[][]
        returned_data_row_count: number
      }[]
    }
    assert.deepEqual(data.contents[0]?.column_names, ['Region', 'Sales'])
    assert.equal(data.contents[0].data_rows.length, 10)
    const second = await post(sim, `${V2}/searchdata`, body, bearer(token))
    assert.deepEqual(await second.json(), data)
    const missing = await post(sim, `${V2}/searchdata`, { query_string: 'x' }, bearer(token))
    assert.equal(missing.status, 400)
  })

  it('honours the metadata[].type filter', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const res = await post(
      sim,
      `${V2}/metadata/search`,
      { metadata: [{ type: 'LIVEBOARD' }] },
      bearer(token),
    )
    const found = (await res.json()) as { metadata_type: string; metadata_header: object }[]
    assert.ok(found.length >= 1)
    assert.ok(found.every((item) => item.metadata_type === 'LIVEBOARD'))
    const bad = await post(
      sim,
      `${V2}/metadata/search`,
      { metadata: [{ type: 'X' }] },
      bearer(token),
    )
    assert.equal(bad.status, 400)
  })

  it('returns reports as binary octet-stream ≥ 64 KiB, the same each time', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const request = { metadata_identifier: CATALOGUE[2]!.id, file_format: 'CSV' }
    const res = await post(sim, `${V2}/report/answer`, request, bearer(token))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/octet-stream')
    const bytes = Buffer.from(await res.arrayBuffer())
    assert.ok(bytes.length >= 64 * 1024)
    assert.equal(new Set(bytes).size, 256, 'every byte value 0-255 appears')
    const again = await post(sim, `${V2}/report/answer`, request, bearer(token))
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(bytes))
    const liveboard = await post(sim, `${V2}/report/liveboard`, {}, bearer(token))
    assert.equal(liveboard.status, 400)
  })
})

describe('REST v1 session flow', () => {
  async function v1Token(sim: Simulator, fields: Record<string, string> = {}) {
    const res = await postForm(sim, `${V1}/session/auth/token`, {
      secret_key: SECRET,
      username: 'alice',
      access_level: 'FULL',
      autocreate: 'true',
      ...fields,
    })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
    return res.text()
  }

  async function login(sim: Simulator, token: string): Promise<string> {
    const res = await postForm(sim, `${V1}/session/login/token`, {
      username: 'alice',
      auth_token: token,
      no_url_redirection: 'true',
    })
    assert.equal(res.status, 204)
    const cookies = res.headers.getSetCookie()
    assert.ok(cookies.some((c) => /^JSESSIONID=[^;]+; Path=\/; HttpOnly$/.test(c)))
    assert.ok(cookies.some((c) => /^clientId=[^;]+; Path=\/; Secure; HttpOnly$/.test(c)))
    return cookies.map((cookie) => cookie.split(';')[0]).join('; ')
  }

  const v1Headers = (cookie: string) => ({ cookie, 'x-requested-by': 'ThoughtSpot' })

  it('mints, logs in with a cookie and serves session/info and pinboarddata', async (t) => {
    const sim = await start(t)
    const token = await v1Token(sim, { groups: '["analysts","v1_only"]' })
    assert.deepEqual(sim.state.users.get('alice')!.groups, ['analysts', 'v1_only'])
    assert.deepEqual(sim.state.createdGroups, ['v1_only'])
    const cookie = await login(sim, token)

    const info = await get(sim, `${V1}/session/info`, v1Headers(cookie))
    assert.equal(info.status, 200)
    const body = (await info.json()) as Record<string, unknown>
    assert.equal(body.userName, 'alice')
    assert.equal(body.userGUID, sim.state.users.get('alice')!.id)
    assert.equal(body.locale, 'en-US')
    assert.equal('authToken' in body, false)
    const internal = await get(sim, '/callosum/v1/session/info', v1Headers(cookie))
    assert.equal(internal.status, 200)
    assert.equal((await get(sim, '/callosum/v1/session/isactive', v1Headers(cookie))).status, 200)

    const id = CATALOGUE[0]!.id
    const pinboard = await fetch(`${sim.url}${V1}/pinboarddata?id=${id}&batchsize=5&offset=0`, {
      method: 'POST',
      headers: v1Headers(cookie),
    })
    assert.equal(pinboard.status, 200)
    const vizzes = Object.values((await pinboard.json()) as Record<string, { data: unknown[] }>)
    assert.equal(vizzes.length, 2)
    assert.equal(vizzes[0]?.data.length, 5)
    const call = sim.state.callsTo('/pinboarddata')[0]!
    assert.equal(call.query, `id=${id}&batchsize=5&offset=0`)
    const noId = await fetch(`${sim.url}${V1}/pinboarddata`, {
      method: 'POST',
      headers: v1Headers(cookie),
    })
    assert.equal(noId.status, 400)
    const search = await fetch(`${sim.url}${V1}/searchdata?query_string=%5BRegion%5D`, {
      method: 'POST',
      headers: v1Headers(cookie),
    })
    assert.equal(search.status, 400, 'data_source_guid is required')
  })

  it('requires X-Requested-By on every v1 call', async (t) => {
    const sim = await start(t)
    const res = await fetch(`${sim.url}${V1}/session/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ secret_key: SECRET, username: 'alice', autocreate: 'true' }),
    })
    assert.equal(res.status, 400)
    assert.equal(sim.state.tokens.size, 0)
    const cookie = await login(sim, await v1Token(sim))
    const info = await get(sim, `${V1}/session/info`, { cookie })
    assert.equal(info.status, 400)
  })

  it('ends cookie sessions: expireSessions(), logout and the idle timeout give 401', async (t) => {
    const clock = fakeClock()
    const sim = await start(t, { now: clock.now, sessionTtlMs: 60_000 })
    const cookie = await login(sim, await v1Token(sim))
    assert.equal((await get(sim, `${V1}/session/info`, v1Headers(cookie))).status, 200)
    sim.state.expireSessions()
    assert.equal((await get(sim, `${V1}/session/info`, v1Headers(cookie))).status, 401)
    assert.equal((await get(sim, '/callosum/v1/session/isactive', v1Headers(cookie))).status, 401)

    const second = await login(sim, await v1Token(sim))
    clock.advance(59_000)
    assert.equal((await get(sim, `${V2}/auth/session/user`, { cookie: second })).status, 200)
    clock.advance(59_000)
    assert.equal((await get(sim, `${V1}/session/info`, v1Headers(second))).status, 200, 'idle')
    const out = await fetch(`${sim.url}${V1}/session/logout`, {
      method: 'POST',
      headers: v1Headers(second),
    })
    assert.equal(out.status, 204)
    assert.equal((await get(sim, `${V1}/session/info`, v1Headers(second))).status, 401)

    const third = await login(sim, await v1Token(sim))
    clock.advance(60_000)
    assert.equal((await get(sim, `${V1}/session/info`, v1Headers(third))).status, 401)
  })

  it('checks the v1 mint: secret, fields, groups JSON, access level', async (t) => {
    const sim = await start(t)
    const wrong = await postForm(sim, `${V1}/session/auth/token`, {
      secret_key: 'wrong',
      username: 'alice',
      autocreate: 'true',
    })
    assert.equal(wrong.status, 401)
    assert.ok(!(await wrong.text()).includes(SECRET))
    const cases: Record<string, string>[] = [
      { username: 'alice' },
      { secret_key: SECRET },
      { secret_key: SECRET, username: 'alice', autocreate: 'true', groups: 'analysts' },
      { secret_key: SECRET, username: 'alice', autocreate: 'yes' },
      { secret_key: SECRET, username: 'alice', access_level: 'REPORT_BOOK_VIEW' },
      { secret_key: SECRET, username: 'alice', access_level: 'ADMIN' },
      { secret_key: SECRET, username: 'alice', orgid: 'zero' },
    ]
    for (const fields of cases) {
      const res = await postForm(sim, `${V1}/session/auth/token`, fields)
      assert.equal(res.status, 400, JSON.stringify(fields))
    }
    const unknown = await postForm(sim, `${V1}/session/auth/token`, {
      secret_key: SECRET,
      username: 'alice',
    })
    assert.equal(unknown.status, 401)
    const json = await fetch(`${sim.url}${V1}/session/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-by': 't' },
      body: JSON.stringify({ secret_key: SECRET, username: 'alice', autocreate: 'true' }),
    })
    assert.equal(json.status, 415)
    assert.equal(sim.state.tokens.size, 0)
  })

  it('expires older v1 tokens 5 min after a newer one; refuses them as bearer', async (t) => {
    const clock = fakeClock()
    const sim = await start(t, { now: clock.now })
    const first = await v1Token(sim)
    clock.advance(60_000)
    const second = await v1Token(sim)
    assert.equal(sim.state.tokens.get(first)!.expiresAt, T0 + 60_000 + 5 * 60_000)
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(second))).status, 401)
    clock.advance(5 * 60_000)
    const late = await postForm(sim, `${V1}/session/login/token`, {
      auth_token: first,
      no_url_redirection: 'true',
    })
    assert.equal(late.status, 401)
  })

  it('logs in with a v2 token, redirects by default, refuses mismatches', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const redirect = await fetch(
      `${sim.url}${V1}/session/login/token?auth_token=${encodeURIComponent(token)}&redirect_url=%2Fhome`,
      { headers: { 'x-requested-by': 'sdk' }, redirect: 'manual' },
    )
    assert.equal(redirect.status, 302)
    assert.equal(redirect.headers.get('location'), '/home')
    const mismatch = await postForm(sim, `${V1}/session/login/token`, {
      username: 'mallory',
      auth_token: token,
      no_url_redirection: 'true',
    })
    assert.equal(mismatch.status, 401)
    const v1Error = (await mismatch.json()) as Record<string, unknown>
    assert.equal(v1Error.code, 10097)
    assert.deepEqual(JSON.parse(v1Error.debug as string), ['The token is invalid or has expired'])
    const injected = await postForm(sim, `${V1}/session/login/token`, {
      auth_token: token,
      redirect_url: '/x\r\nSet-Cookie: evil=1',
    })
    assert.equal(injected.status, 400)
    sim.state.revokeTokensOf('alice')
    const revoked = await postForm(sim, `${V1}/session/login/token`, {
      auth_token: token,
      no_url_redirection: 'true',
    })
    assert.equal(revoked.status, 401)
  })
})

describe('recorder', () => {
  it('keeps raw bytes, raw path and query, lower-case headers, parsed JSON and forms', async (t) => {
    const sim = await start(t)
    const raw = Buffer.from([0x7b, 0xff, 0x00, 0x22, 0x7d])
    await fetch(`${sim.url}${V2}/searchdata?x=%20a&x=2`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Custom-Header': 'Value' },
      body: raw,
    })
    const [call] = sim.state.callsTo(`${V2}/searchdata`)
    assert.ok(call)
    assert.ok(call.body.equals(raw))
    assert.equal(call.json, undefined)
    assert.equal(call.query, 'x=%20a&x=2')
    assert.equal(call.headers['x-custom-header'], 'Value')
    assert.equal(call.status, 401)

    await post(sim, `${V2}/auth/token/full`, { username: 'alice', secret_key: SECRET })
    assert.deepEqual(sim.state.callsTo(/token\/full$/)[0]?.json, {
      username: 'alice',
      secret_key: SECRET,
    })
    await postForm(sim, `${V1}/session/auth/token`, { username: 'a b', groups: '["x"]' })
    assert.deepEqual(sim.state.callsTo('/session/auth/token')[0]?.form, {
      username: 'a b',
      groups: '["x"]',
    })
    await rawGet(sim, '/api/rest/2.0/%2e%2e/nowhere')
    const unknown = sim.state.callsTo('/nowhere')[0]
    assert.equal(unknown?.path, '/api/rest/2.0/%2e%2e/nowhere')
    assert.equal(unknown.status, 404)
    assert.deepEqual(
      sim.state.calls.map((c) => c.id),
      [1, 2, 3, 4],
    )
    sim.state.clearCalls()
    assert.equal(sim.state.calls.length, 0)
  })

  it('answers 405 for a known path with the wrong method and 413 above 5 MiB', async (t) => {
    const sim = await start(t)
    const wrong = await fetch(`${sim.url}${V2}/auth/token/full`)
    assert.equal(wrong.status, 405)
    const big = await fetch(`${sim.url}${V2}/auth/token/full`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(5 * 1024 * 1024 + 1, 0x20),
    })
    assert.equal(big.status, 413)
    assert.equal(sim.state.calls.at(-1)?.body.length, 5 * 1024 * 1024)
  })
})

describe('faults', () => {
  it("'down' drops the connection without an answer and is recorded with status 0", async (t) => {
    const sim = await start(t)
    sim.state.setFault({ mode: 'down' })
    await assert.rejects(fetch(`${sim.url}${V2}/auth/session/user`))
    assert.equal(sim.state.calls[0]?.status, 0)
    sim.state.clearFault()
    assert.equal((await fetch(`${sim.url}${V2}/auth/session/user`)).status, 401)
  })

  it("'unauthorized', 'rateLimited', 'maintenance' and 'error' answer like ThoughtSpot", async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const path = `${V2}/auth/session/user`
    sim.state.setFault({ mode: 'unauthorized' })
    const unauthorized = await get(sim, path, bearer(token))
    assert.equal(unauthorized.status, 401)
    assert.equal(await errorCode(unauthorized), 10097)

    sim.state.setFault({ mode: 'rateLimited', retryAfterSeconds: 7 })
    const limited = await get(sim, path, bearer(token))
    assert.equal(limited.status, 429)
    assert.equal(limited.headers.get('retry-after'), '7')
    await limited.body?.cancel()

    sim.state.setFault({ mode: 'maintenance' })
    const maintenance = await get(sim, path, bearer(token))
    assert.equal(maintenance.status, 200)
    assert.match(maintenance.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(await maintenance.text(), /Site Maintenance/)

    sim.state.setFault({ mode: 'error' })
    const failed = await get(sim, path, bearer(token))
    assert.equal(failed.status, 500)
    await failed.body?.cancel()
    assert.deepEqual(
      sim.state.callsTo(path).map((call) => call.status),
      [401, 429, 200, 500],
    )
    sim.state.clearFault()
    assert.equal((await get(sim, path, bearer(token))).status, 200)
  })

  it("'times' limits a fault to the next N matching calls; 'paths' to matching paths", async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    sim.state.setFault({ mode: 'error', paths: /\/searchdata$/, times: 2 })
    const body = { logical_table_identifier: 't', query_string: 'q' }
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(token))).status, 200)
    assert.equal((await post(sim, `${V2}/searchdata`, body, bearer(token))).status, 500)
    assert.equal((await post(sim, `${V2}/searchdata`, body, bearer(token))).status, 500)
    assert.equal((await post(sim, `${V2}/searchdata`, body, bearer(token))).status, 200)
    assert.equal(sim.state.fault, null)
  })

  it("'slow' waits before answering", async (t) => {
    const sim = await start(t)
    sim.state.setFault({ mode: 'slow', delayMs: 300 })
    const started = Date.now()
    const res = await get(sim, `${V2}/auth/session/user`)
    assert.equal(res.status, 401)
    assert.ok(Date.now() - started >= 290)
  })

  it('close() resolves promptly with a slow call pending and keep-alive sockets open', async () => {
    const sim = await startSimulator({ secretKey: SECRET, quiet: true })
    await (await fetch(`${sim.url}/nowhere`)).text() // leaves a keep-alive socket
    sim.state.setFault({ mode: 'slow' })
    const pending = fetch(`${sim.url}${V2}/auth/session/user`).then(
      () => 'answered',
      () => 'dropped',
    )
    while (sim.state.calls.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    const started = Date.now()
    await sim.close()
    assert.ok(Date.now() - started < 1000)
    assert.equal(await pending, 'dropped')
    assert.equal(sim.state.calls[1]?.status, 0)
  })
})

describe('CLI (src/simulator/main.ts)', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url))

  function run(env: Record<string, string>) {
    return spawn(process.execPath, ['--import', 'tsx', 'src/simulator/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  }

  it('reads the key file (trimmed), prints its URL and stops on SIGTERM', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const keyFile = join(dir, 'key')
    writeFileSync(keyFile, `${SECRET}\n`)
    const child = run({ SIM_SECRET_KEY_FILE: keyFile, SIM_PORT: '0', SIM_GROUPS: 'a, b' })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    t.after(() => child.kill('SIGKILL'))
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out)
        if (match?.[1]) resolve(match[1])
      })
      child.once('exit', () => reject(new Error(`exited early: ${out}`)))
    })
    const res = await fetch(`${url}${V2}/auth/token/full`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x', secret_key: SECRET, auto_create: true }),
    })
    assert.equal(res.status, 200)
    await res.text()
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
  })

  it('refuses to start without a secret key, with one line on stderr', async () => {
    const child = run({ SIM_PORT: '0' })
    let err = ''
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    assert.equal(code, 1)
    assert.match(err, /^ts-simulator: SIM_SECRET_KEY or SIM_SECRET_KEY_FILE is required\n$/)
  })
})
