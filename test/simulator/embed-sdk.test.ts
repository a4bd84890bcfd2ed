/**
 * The simulator over real HTTP: what the Visual Embed SDK calls from the embedding page (CORS for
 * the embedding origins, isactive, session/info, preauth/info, the internal cookie login) and the
 * embed app page its iframe loads. Each test starts its own simulator and closes it (t.after).
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { startSimulator } from '../../src/simulator/server.js'
import { buildFrontEnd } from '../../scripts/build-front-end.js'
import { SECRET, bearer, get, mintFull, postForm, start } from './helpers.js'

const PAGE = 'http://127.0.0.1:4173'
const OTHER = 'http://127.0.0.1:5999'
const INTERNAL = '/callosum/v1'

function preflight(url: string, origin: string, headers: string, method = 'GET') {
  return fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': headers,
    },
  })
}

describe('CORS for the embedding origins', () => {
  it('answers preflights from a listed origin, with no X-Requested-By asked for', async (t) => {
    const sim = await start(t, { embedOrigins: [PAGE] })
    const res = await preflight(
      `${sim.url}${INTERNAL}/session/isactive`,
      PAGE,
      'authorization,x-requested-by',
    )
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), PAGE)
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(/,\s*/)
    for (const name of [
      'authorization',
      'x-requested-by',
      'content-type',
      'x-thoughtspot-client',
    ]) {
      assert.ok(allowed.includes(name), name)
    }
    assert.match(res.headers.get('vary') ?? '', /Origin/)
    const [call] = sim.state.callsTo('/session/isactive')
    assert.equal(call?.method, 'OPTIONS')
    assert.equal(call.status, 204)
  })

  it('gives an origin that is not listed nothing to read', async (t) => {
    const sim = await start(t, { embedOrigins: [PAGE] })
    const res = await preflight(`${sim.url}${INTERNAL}/session/info`, OTHER, 'authorization')
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    const { token } = await mintFull(sim)
    const info = await get(sim, `${INTERNAL}/session/info`, { ...bearer(token), origin: OTHER })
    assert.equal(info.status, 200)
    assert.equal(info.headers.get('access-control-allow-origin'), null, 'the browser hides it')
    const own = await get(sim, `${INTERNAL}/session/info`, { ...bearer(token), origin: PAGE })
    assert.equal(own.headers.get('access-control-allow-origin'), PAGE)
    assert.equal(own.headers.get('access-control-allow-credentials'), 'true')
  })

  it('puts CORS headers on error answers too, and the list can change at run time', async (t) => {
    const sim = await start(t)
    const refused = await get(sim, `${INTERNAL}/session/isactive`, { origin: PAGE, ...bearer('x') })
    assert.equal(refused.status, 401)
    assert.equal(refused.headers.get('access-control-allow-origin'), null)
    sim.state.embedOrigins.add(PAGE)
    const listed = await get(sim, `${INTERNAL}/session/isactive`, { origin: PAGE, ...bearer('x') })
    assert.equal(listed.status, 401)
    assert.equal(listed.headers.get('access-control-allow-origin'), PAGE)
  })

  it('refuses origin lists that are not bare origins', async () => {
    for (const bad of ['http://127.0.0.1:3000/', '127.0.0.1:3000', '*', 'http://a.example/x']) {
      await assert.rejects(
        startSimulator({ secretKey: SECRET, quiet: true, embedOrigins: [bad] }),
        TypeError,
        bad,
      )
    }
  })
})

describe('the calls the SDK makes', () => {
  it('isactive: 200 for a live bearer token without X-Requested-By, 401 once revoked', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const live = await get(sim, `${INTERNAL}/session/isactive`, bearer(token))
    assert.equal(live.status, 200)
    assert.equal(live.headers.get('content-length'), '0')
    sim.state.revokeTokensOf('alice')
    assert.equal((await get(sim, `${INTERNAL}/session/isactive`, bearer(token))).status, 401)
  })

  it('session/info carries the configInfo the SDK reads before AuthStatus.SUCCESS', async (t) => {
    const sim = await start(t)
    const { token, expiration_time_in_millis } = await mintFull(sim, {
      group_identifiers: ['analysts'],
    })
    const res = await get(sim, `${INTERNAL}/session/info`, bearer(token))
    assert.equal(res.status, 200)
    const info = (await res.json()) as {
      userName: string
      userGUID: string
      userGroups: string[]
      currentOrgId: number
      expirationTime: number
      releaseVersion: unknown
      configInfo: { mixpanelConfig: unknown; isPublicUser: boolean }
    }
    assert.equal(info.userName, 'alice')
    assert.equal(info.userGUID, sim.state.users.get('alice')!.id)
    assert.deepEqual(info.userGroups, ['analysts'])
    assert.equal(info.currentOrgId, 0)
    assert.equal(info.expirationTime, expiration_time_in_millis)
    assert.equal(typeof info.releaseVersion, 'string')
    assert.deepEqual(info.configInfo.mixpanelConfig, {
      devSdkKey: '',
      prodSdkKey: '',
      production: false,
    })
    assert.equal(info.configInfo.isPublicUser, false)
    assert.equal('authToken' in info, false)
  })

  it('preauth/info wraps the same details in `info`; nothing without a credential', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const res = await get(sim, '/prism/preauth/info', bearer(token))
    assert.equal(res.status, 200)
    const body = (await res.json()) as { info: { userGUID: string } }
    assert.equal(body.info.userGUID, sim.state.users.get('alice')!.id)
    assert.equal((await get(sim, '/prism/preauth/info')).status, 401)
  })

  it('the internal session/login/token makes a cookie session the SDK can use', async (t) => {
    const sim = await start(t, { embedOrigins: [PAGE] })
    const { token } = await mintFull(sim)
    const res = await fetch(`${sim.url}${INTERNAL}/session/login/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-requested-by': 'ThoughtSpot',
        origin: PAGE,
      },
      body: new URLSearchParams({ auth_token: token }).toString(),
      redirect: 'manual',
    })
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('access-control-allow-origin'), PAGE)
    const cookie = res.headers
      .getSetCookie()
      .map((value) => value.split(';')[0])
      .join('; ')
    assert.match(cookie, /JSESSIONID=/)
    const active = await get(sim, `${INTERNAL}/session/isactive`, {
      cookie,
      'x-requested-by': 'ThoughtSpot',
    })
    assert.equal(active.status, 200)
    const out = await fetch(`${sim.url}${INTERNAL}/session/logout`, {
      method: 'POST',
      headers: { cookie, 'x-requested-by': 'ThoughtSpot' },
    })
    assert.equal(out.status, 204)
    const after = await get(sim, `${INTERNAL}/session/isactive`, {
      cookie,
      'x-requested-by': 'ThoughtSpot',
    })
    assert.equal(after.status, 401)
  })

  it('keeps the X-Requested-By guard for cookie calls (not isactive) and the GET login fallback', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const fallback = await get(
      sim,
      `${INTERNAL}/session/login/token?auth_token=${encodeURIComponent(token)}`,
    )
    assert.equal(fallback.status, 400)
    const form = await postForm(sim, `${INTERNAL}/session/login/token`, {
      auth_token: token,
      no_url_redirection: 'true',
    })
    assert.equal(form.status, 204)
    const cookie = form.headers.getSetCookie()[0]!.split(';')[0]!
    assert.equal((await get(sim, `${INTERNAL}/session/info`, { cookie })).status, 400)
    // The read-only isactive check is exempt: the SDK's cookie flow sends it bare.
    assert.equal((await get(sim, `${INTERNAL}/session/isactive`, { cookie })).status, 200)
  })
})

describe('the embed app page', () => {
  before(() => buildFrontEnd())

  it('serves the app shell at / and /v2/, framable only by the embedding origins', async (t) => {
    const sim = await start(t, { embedOrigins: [PAGE] })
    for (const path of ['/?embedApp=true&cookieless=true', '/v2/?embedApp=true']) {
      const res = await get(sim, path)
      assert.equal(res.status, 200, path)
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
      const policy = res.headers.get('content-security-policy') ?? ''
      assert.match(policy, new RegExp(`frame-ancestors 'self' ${PAGE}(;|$)`))
      assert.match(policy, /script-src 'self'/)
      const html = await res.text()
      assert.match(html, /ThoughtSpot simulator/)
      assert.match(html, /src="\/simulator-assets\/embed-app\.js"/)
    }
  })

  it('serves the bundled script and styles', async (t) => {
    const sim = await start(t)
    const script = await get(sim, '/simulator-assets/embed-app.js')
    assert.equal(script.status, 200)
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/)
    assert.match(await script.text(), /appInit/)
    const styles = await get(sim, '/simulator-assets/embed-app.css')
    assert.equal(styles.status, 200)
    assert.match(styles.headers.get('content-type') ?? '', /^text\/css/)
  })
})
