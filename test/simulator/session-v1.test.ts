/**
 * The simulator over real HTTP: The REST v1 session flow: login token, cookie session, session calls, v1 data.
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
  get,
  postForm,
  bearer,
  mintFull,
  v1Token,
  login,
  v1Headers,
} from './helpers.js'

describe('REST v1 session flow', () => {
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
