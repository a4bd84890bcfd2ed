/**
 * CSRF, CORS, helmet and header hygiene on EVERY route family: the
 * two bugs a BFF most likely ships are one route that skips the anti-forgery check and a proxy
 * that forwards the browser's Cookie. Every assertion about what reached ThoughtSpot is made on
 * what the simulator recorded.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import type { Response, Test } from 'supertest'
import type { RecordedCall } from '../../src/simulator/server.js'
import { assertErrorShape, HTTPS } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

const APP_ORIGIN = 'https://app.example.com'
const BFF_ORIGIN = 'https://bff.example.com'
const EVIL_ORIGIN = 'https://evil.example'
const SESSION_COOKIE = '__Host-tsbff.sid'

const V2 = '/api/rest/2.0'
const V1 = '/callosum/v1/tspublic/v1'
const PINBOARD_QUERY = '?id=9b3f0a2e-1c4d-4e5f-8a6b-7c8d9e0f1a2b'
const SEARCH_V1_QUERY =
  '?query_string=%5BRevenue%5D&data_source_guid=2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a'
const SEARCH_V2_BODY = { logical_table_identifier: 'retail-sales', query_string: '[Revenue]' }

let stack: Stack
before(async () => {
  stack = await startStack({
    config: {
      server: { cors: { origins: [APP_ORIGIN] }, publicOrigin: BFF_ORIGIN },
      proxy: {
        allow: [
          { method: 'POST', path: `${V2}/searchdata` },
          { method: 'POST', path: `${V2}/metadata/search` },
          { method: 'PUT', path: `${V2}/**` },
          { method: 'PATCH', path: `${V2}/**` },
          { method: 'DELETE', path: `${V2}/**` },
          { method: 'GET', path: `${V2}/auth/session/user` },
          { method: 'POST', path: `${V1}/pinboarddata` },
          { method: 'POST', path: `${V1}/searchdata` },
          { method: 'GET', path: `${V1}/session/info` },
          { method: 'POST', path: `${V1}/session/login/token` },
        ],
      },
    },
  })
})
after(() => stack.close())
beforeEach(() => stack.simulator.state.clearCalls())

type Method = 'get' | 'head' | 'post' | 'put' | 'patch' | 'delete' | 'options'

let userCount = 0
/** A fresh user per case: a passing DELETE /ts/session ends the session, v1 holds one upstream. */
function newUser(): string {
  userCount += 1
  return `csrf-user-${userCount}@acme.com`
}

function send(method: Method, path: string): Test {
  return stack.request[method](path)
}

function calls(): RecordedCall[] {
  return stack.simulator.state.calls
}

function assertHelmet(response: Response, where: string): void {
  const headers = response.headers
  assert.equal(headers['x-content-type-options'], 'nosniff', where)
  assert.ok(headers['x-frame-options'], `${where}: x-frame-options`)
  assert.match(headers['strict-transport-security'] ?? '', /max-age=\d+/, where)
  assert.ok(headers['content-security-policy'], `${where}: content-security-policy`)
}

function setCookies(response: Response): string[] {
  const value = response.headers['set-cookie'] as unknown
  return Array.isArray(value) ? (value as string[]) : typeof value === 'string' ? [value] : []
}

// ---------------------------------------------------------------------------------------------
// Route families × unsafe methods
// ---------------------------------------------------------------------------------------------

interface UnsafeRoute {
  name: string
  method: Exclude<Method, 'get' | 'head' | 'options'>
  /** The BFF path, query included. */
  path: string
  /** The upstream call that proves the request got through (method, path). */
  upstream: { method: string; path: string }
  body?: { type: string; data: string | object }
  /** Extra set-up once the user is authenticated, before the recorder is cleared. */
  prepare?: (auth: Record<string, string>) => Promise<void>
}

/** Gives the user a cached ThoughtSpot token, so logout has something to revoke upstream. */
async function mintFor(auth: Record<string, string>): Promise<void> {
  const response = await stack.request.get('/ts/auth/token').set(HTTPS).set(auth)
  assert.equal(response.status, 200, response.text)
}

const UNSAFE_ROUTES: UnsafeRoute[] = [
  {
    name: 'DELETE /ts/session',
    method: 'delete',
    path: '/ts/session',
    upstream: { method: 'POST', path: `${V2}/auth/token/revoke` },
    prepare: mintFor,
  },
  {
    name: 'REST v2 POST searchdata',
    method: 'post',
    path: `/ts${V2}/searchdata`,
    upstream: { method: 'POST', path: `${V2}/searchdata` },
    body: { type: 'application/json', data: SEARCH_V2_BODY },
  },
  {
    name: 'REST v2 POST metadata/search',
    method: 'post',
    path: `/ts${V2}/metadata/search`,
    upstream: { method: 'POST', path: `${V2}/metadata/search` },
    body: { type: 'application/json', data: { metadata: [{ type: 'LIVEBOARD' }] } },
  },
  {
    name: 'REST v2 PUT',
    method: 'put',
    path: `/ts${V2}/metadata/search`,
    upstream: { method: 'PUT', path: `${V2}/metadata/search` },
    body: { type: 'application/json', data: { name: 'x' } },
  },
  {
    name: 'REST v2 PATCH',
    method: 'patch',
    path: `/ts${V2}/metadata/search`,
    upstream: { method: 'PATCH', path: `${V2}/metadata/search` },
    body: { type: 'application/json', data: { name: 'x' } },
  },
  {
    name: 'REST v2 DELETE',
    method: 'delete',
    path: `/ts${V2}/metadata/search`,
    upstream: { method: 'DELETE', path: `${V2}/metadata/search` },
  },
  {
    name: 'REST v1 POST pinboarddata',
    method: 'post',
    path: `/ts${V1}/pinboarddata${PINBOARD_QUERY}`,
    upstream: { method: 'POST', path: `${V1}/pinboarddata` },
    body: { type: 'application/x-www-form-urlencoded', data: 'batchsize=5' },
  },
  {
    name: 'REST v1 POST searchdata',
    method: 'post',
    path: `/ts${V1}/searchdata${SEARCH_V1_QUERY}`,
    upstream: { method: 'POST', path: `${V1}/searchdata` },
  },
]

type AuthKind = 'cookie' | 'bearer'

interface CsrfCase {
  name: string
  auth: AuthKind
  headers: Record<string, string>
}

const REFUSED: CsrfCase[] = [
  { name: 'cookie, no X-CSRF', auth: 'cookie', headers: {} },
  { name: 'cookie, X-CSRF: 0', auth: 'cookie', headers: { 'X-CSRF': '0' } },
  { name: 'cookie, X-CSRF: true', auth: 'cookie', headers: { 'X-CSRF': 'true' } },
  { name: 'cookie, X-CSRF: (empty)', auth: 'cookie', headers: { 'X-CSRF': '' } },
  {
    name: 'cookie, no X-CSRF, allowed Origin',
    auth: 'cookie',
    headers: { Origin: APP_ORIGIN },
  },
  {
    name: 'cookie, X-CSRF: 1, Origin evil',
    auth: 'cookie',
    headers: { 'X-CSRF': '1', Origin: EVIL_ORIGIN },
  },
  {
    name: 'cookie, X-CSRF: 1, Origin: null',
    auth: 'cookie',
    headers: { 'X-CSRF': '1', Origin: 'null' },
  },
  {
    name: 'cookie, X-CSRF: 1, Origin that only starts with an allowed one',
    auth: 'cookie',
    headers: { 'X-CSRF': '1', Origin: `${APP_ORIGIN}.evil.example` },
  },
  {
    name: 'cookie, X-CSRF: 1, publicOrigin over http',
    auth: 'cookie',
    headers: { 'X-CSRF': '1', Origin: 'http://bff.example.com' },
  },
]

const PASSED: CsrfCase[] = [
  {
    name: 'cookie, X-CSRF: 1, Origin = CORS origin',
    auth: 'cookie',
    headers: { 'X-CSRF': '1', Origin: APP_ORIGIN },
  },
  {
    name: 'cookie, X-CSRF: 1, Origin = publicOrigin',
    auth: 'cookie',
    headers: { 'X-CSRF': '1', Origin: BFF_ORIGIN },
  },
  { name: 'cookie, X-CSRF: 1, no Origin', auth: 'cookie', headers: { 'X-CSRF': '1' } },
  { name: 'bearer, no X-CSRF (exempt)', auth: 'bearer', headers: {} },
  {
    name: 'bearer, no X-CSRF, foreign Origin (exempt)',
    auth: 'bearer',
    headers: { Origin: EVIL_ORIGIN },
  },
]

interface Authenticated {
  username: string
  headers: Record<string, string>
}

async function authenticate(kind: AuthKind): Promise<Authenticated> {
  const username = newUser()
  if (kind === 'cookie') {
    return { username, headers: { Cookie: await stack.login({ sub: username }) } }
  }
  return { username, headers: { Authorization: `Bearer ${await stack.jwt({ sub: username })}` } }
}

function unsafeRequest(route: UnsafeRoute, auth: Authenticated, headers: Record<string, string>) {
  const req = send(route.method, route.path).set(HTTPS).set(auth.headers).set(headers)
  if (!route.body) return req
  const { type, data } = route.body
  return req.set('Content-Type', type).send(typeof data === 'string' ? data : JSON.stringify(data))
}

for (const route of UNSAFE_ROUTES) {
  describe(`CSRF on ${route.name}`, () => {
    for (const csrfCase of REFUSED) {
      it(`${csrfCase.name} → 403 CSRF, nothing reaches ThoughtSpot`, async () => {
        const auth = await authenticate(csrfCase.auth)
        await route.prepare?.(auth.headers)
        stack.simulator.state.clearCalls()

        const response = await unsafeRequest(route, auth, csrfCase.headers)
        assertErrorShape(response, 403, 'CSRF')
        assertHelmet(response, 'CSRF refusal')
        if (csrfCase.headers.Origin === APP_ORIGIN) {
          // The app's own origin can read the refusal's code.
          assert.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
        } else {
          assert.equal(response.headers['access-control-allow-origin'], undefined)
        }
        assert.deepEqual(
          calls().map((call) => `${call.method} ${call.path}`),
          [],
          'nothing at all reached ThoughtSpot (no mint, no v1 login, no call)',
        )
        if (route.path === '/ts/session') {
          const still = await stack.request.get('/ts/session').set(HTTPS).set(auth.headers)
          assert.equal(still.status, 200, 'the refused logout left the session alive')
        }
      })
    }

    for (const csrfCase of PASSED) {
      it(`${csrfCase.name} → not CSRF, reaches ThoughtSpot`, async () => {
        const auth = await authenticate(csrfCase.auth)
        await route.prepare?.(auth.headers)
        stack.simulator.state.clearCalls()

        const response = await unsafeRequest(route, auth, csrfCase.headers)
        const code = (response.body as { error?: { code?: string } } | undefined)?.error?.code
        assert.notEqual(code, 'CSRF', response.text)
        assert.notEqual(response.status, 403, response.text)
        const reached = calls().filter(
          (call) => call.method === route.upstream.method && call.path === route.upstream.path,
        )
        assert.ok(
          reached.length >= 1,
          `${route.upstream.method} ${route.upstream.path} reached ThoughtSpot; saw ${calls()
            .map((call) => `${call.method} ${call.path}`)
            .join(', ')}`,
        )
        if (route.path === '/ts/session') assert.equal(response.status, 204)
        else assert.equal(response.status, reached.at(-1)?.status, 'upstream status passed through')
      })
    }
  })
}

describe('CSRF: safe methods with the session cookie need no X-CSRF', () => {
  // [method, BFF path, the upstream call that proves it got through (none for GET /ts/session)]
  const safe: Array<[Method, string, string | null]> = [
    ['get', '/ts/session', null],
    ['get', '/ts/auth/token', `POST ${V2}/auth/token/full`],
    ['get', `/ts${V2}/auth/session/user`, `GET ${V2}/auth/session/user`],
    ['head', `/ts${V2}/auth/session/user`, `HEAD ${V2}/auth/session/user`],
    ['get', `/ts${V1}/session/info`, `GET ${V1}/session/info`],
    ['head', `/ts${V1}/session/info`, `HEAD ${V1}/session/info`],
  ]
  for (const [method, path, upstream] of safe) {
    it(`${method.toUpperCase()} ${path} with a cookie and no X-CSRF passes`, async () => {
      const cookie = await stack.login({ sub: newUser() })
      stack.simulator.state.clearCalls()
      const response = await send(method, path)
        .set(HTTPS)
        .set('Cookie', cookie)
        .set('Origin', APP_ORIGIN)
      assert.notEqual(response.status, 403, response.text)
      if (upstream !== null) {
        const seen = calls().map((call) => `${call.method} ${call.path}`)
        assert.ok(
          seen.includes(upstream),
          `${upstream} reached ThoughtSpot; saw ${seen.join(', ')}`,
        )
      }
      if (method === 'get') assert.equal(response.status, 200, response.text)
    })
  }
})

// ---------------------------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------------------------

function headerList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim().toLowerCase())
}

describe('CORS', () => {
  const preflights: Array<[string, string]> = [
    ['/ts/session', 'DELETE'],
    ['/ts/auth/token', 'GET'],
    [`/ts${V2}/searchdata`, 'POST'],
    [`/ts${V2}/metadata/search`, 'PUT'],
    [`/ts${V1}/pinboarddata`, 'POST'],
  ]

  for (const [path, requestMethod] of preflights) {
    it(`preflight ${requestMethod} ${path} from the allowed origin: exact origin, credentials`, async () => {
      const response = await stack.request
        .options(path)
        .set('Origin', APP_ORIGIN)
        .set('Access-Control-Request-Method', requestMethod)
        .set(
          'Access-Control-Request-Headers',
          'x-csrf, content-type, authorization, x-thoughtspot-client, x-requested-by',
        )
      assert.ok(response.status === 204 || response.status === 200, String(response.status))
      assert.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
      assert.equal(response.headers['access-control-allow-credentials'], 'true')
      const allowedHeaders = headerList(response.headers['access-control-allow-headers'])
      // ThoughtSpot's own clients: the REST SDK sends X-ThoughtSpot-Client, v1 callers X-Requested-By.
      for (const name of [
        'x-csrf',
        'authorization',
        'content-type',
        'x-thoughtspot-client',
        'x-requested-by',
      ]) {
        assert.ok(allowedHeaders.includes(name), `${name} in ${allowedHeaders.join(',')}`)
      }
      assert.ok(
        headerList(response.headers['access-control-allow-methods']).includes(
          requestMethod.toLowerCase(),
        ),
      )
      assert.ok(headerList(response.headers.vary).includes('origin'), 'Vary: Origin')
      assertHelmet(response, 'preflight')
      assert.deepEqual(calls(), [], 'a preflight never reaches ThoughtSpot')
    })

    it(`preflight ${requestMethod} ${path} from a foreign origin: no CORS grant`, async () => {
      const response = await stack.request
        .options(path)
        .set('Origin', EVIL_ORIGIN)
        .set('Access-Control-Request-Method', requestMethod)
        .set('Access-Control-Request-Headers', 'x-csrf')
      assert.equal(response.headers['access-control-allow-origin'], undefined)
      assert.equal(response.headers['access-control-allow-credentials'], undefined)
      assert.equal(response.headers['access-control-allow-headers'], undefined)
      assert.equal(response.headers['access-control-allow-methods'], undefined)
      assert.deepEqual(calls(), [], 'a preflight never reaches ThoughtSpot')
    })
  }

  it('a preflight with Origin: null gets no grant', async () => {
    const response = await stack.request
      .options(`/ts${V2}/searchdata`)
      .set('Origin', 'null')
      .set('Access-Control-Request-Method', 'POST')
    assert.equal(response.headers['access-control-allow-origin'], undefined)
    assert.deepEqual(calls(), [])
  })

  const simpleGets: Array<[string, string | null]> = [
    ['/ts/session', null],
    ['/ts/auth/token', `${V2}/auth/token/full`],
    [`/ts${V2}/auth/session/user`, `${V2}/auth/session/user`],
    [`/ts${V1}/session/info`, `${V1}/session/info`],
  ]
  for (const [path] of simpleGets) {
    it(`GET ${path} from the allowed origin carries ACAO, credentials and Vary: Origin`, async () => {
      const cookie = await stack.login({ sub: newUser() })
      const response = await stack.request
        .get(path)
        .set(HTTPS)
        .set('Cookie', cookie)
        .set('Origin', APP_ORIGIN)
      assert.equal(response.status, 200, response.text)
      assert.equal(response.headers['access-control-allow-origin'], APP_ORIGIN)
      assert.equal(response.headers['access-control-allow-credentials'], 'true')
      assert.ok(headerList(response.headers.vary).includes('origin'), response.headers.vary)
      assert.equal(setCookies(response).length, 0, 'no cookie set on a plain GET')
    })

    it(`GET ${path} from a foreign origin gets no ACAO (never *)`, async () => {
      const cookie = await stack.login({ sub: newUser() })
      const response = await stack.request
        .get(path)
        .set(HTTPS)
        .set('Cookie', cookie)
        .set('Origin', EVIL_ORIGIN)
      assert.equal(response.headers['access-control-allow-origin'], undefined)
      assert.equal(response.headers['access-control-allow-credentials'], undefined)
      assert.ok(headerList(response.headers.vary).includes('origin'), 'Vary: Origin still')
    })
  }

  it('an upstream Access-Control-* header never overrides the BFF’s CORS answer', async () => {
    // No Origin: no ACAO at all, not even from upstream; and never a wildcard.
    const cookie = await stack.login({ sub: newUser() })
    const response = await stack.request
      .get(`/ts${V2}/auth/session/user`)
      .set(HTTPS)
      .set('Cookie', cookie)
    assert.equal(response.status, 200)
    assert.equal(response.headers['access-control-allow-origin'], undefined)
  })
})

// ---------------------------------------------------------------------------------------------
// helmet
// ---------------------------------------------------------------------------------------------

describe('helmet headers', () => {
  it('on proxied responses (v2 and v1), upstream errors, BFF errors and /ts/auth/token', async () => {
    const jwt = await stack.jwt({ sub: newUser() })
    const bearer = { Authorization: `Bearer ${jwt}` }

    const v2 = await stack.request
      .post(`/ts${V2}/searchdata`)
      .set(bearer)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(SEARCH_V2_BODY))
    assert.equal(v2.status, 200, v2.text)
    assertHelmet(v2, 'proxied v2')

    const v1 = await stack.request.post(`/ts${V1}/pinboarddata${PINBOARD_QUERY}`).set(bearer)
    assert.equal(v1.status, 200, v1.text)
    assertHelmet(v1, 'proxied v1')

    const upstreamError = await stack.request
      .put(`/ts${V2}/metadata/search`)
      .set(bearer)
      .set('Content-Type', 'application/json')
      .send('{}')
    assert.equal(upstreamError.status, 405, upstreamError.text)
    assertHelmet(upstreamError, 'upstream error passed through')

    const notAllowed = await stack.request.post(`/ts${V2}/users/search`).set(bearer)
    assertErrorShape(notAllowed, 403, 'ROUTE_NOT_ALLOWED')
    assertHelmet(notAllowed, 'ROUTE_NOT_ALLOWED')

    const unauthenticated = await stack.request.post(`/ts${V2}/searchdata`)
    assertErrorShape(unauthenticated, 401, 'UNAUTHENTICATED')
    assertHelmet(unauthenticated, 'UNAUTHENTICATED')

    const badPath = await stack.request.post(`/ts${V2}/a/../auth/token/full`).set(bearer)
    assert.equal(badPath.status, 400)
    assertHelmet(badPath, 'BAD_PATH')

    const token = await stack.request.get('/ts/auth/token').set(bearer)
    assert.equal(token.status, 200)
    assertHelmet(token, '/ts/auth/token')
    assert.equal(token.headers['cache-control'], 'no-store')
  })
})

// ---------------------------------------------------------------------------------------------
// Header hygiene: what the simulator received, and what the browser got back
// ---------------------------------------------------------------------------------------------

/** Headers a browser (or an attacker's client) might send that must never reach ThoughtSpot. */
const HOSTILE_HEADERS: Record<string, string> = {
  'Proxy-Authorization': 'Basic cHJveHk6c2VjcmV0',
  'X-Forwarded-For': '203.0.113.9',
  'X-Forwarded-Host': 'evil.example',
  'X-Forwarded-Proto': 'https',
  Forwarded: 'for=203.0.113.9;proto=https;host=evil.example',
  'X-Real-IP': '203.0.113.9',
  Origin: APP_ORIGIN,
  'X-CSRF': '1',
  TE: 'trailers',
  'Keep-Alive': 'timeout=5, max=100',
  Upgrade: 'h2c',
  Connection: 'keep-alive, x-secret-hop',
  'X-Secret-Hop': '1',
}

const NEVER_ARRIVE = [
  'proxy-authorization',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
  'x-real-ip',
  'origin',
  'x-csrf',
  'te',
  'keep-alive',
  'upgrade',
  'x-secret-hop',
]

const ORDINARY_HEADERS: Record<string, string> = {
  Accept: 'application/json',
  'Accept-Language': 'de-CH, en;q=0.8',
  'X-Request-Id': 'hygiene-req.42:abc',
}

interface Family {
  name: string
  path: string
  upstreamPath: string
  contentType: string
  body: string
  /** v1 rides on a ThoughtSpot session the BFF holds; v2 on a bearer ThoughtSpot token. */
  credential: 'session' | 'token'
}

const FAMILIES: Family[] = [
  {
    name: 'REST v2',
    path: `/ts${V2}/searchdata?trace=1`,
    upstreamPath: `${V2}/searchdata`,
    contentType: 'application/json',
    body: JSON.stringify(SEARCH_V2_BODY),
    credential: 'token',
  },
  {
    name: 'REST v1',
    path: `/ts${V1}/pinboarddata${PINBOARD_QUERY}`,
    upstreamPath: `${V1}/pinboarddata`,
    contentType: 'application/x-www-form-urlencoded',
    body: 'batchsize=5',
    credential: 'session',
  },
]

function cookiePairs(header: string | string[] | undefined): Array<[string, string]> {
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '')
  return text
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])
}

describe('header hygiene', () => {
  for (const family of FAMILIES) {
    for (const authKind of ['cookie', 'bearer'] as const) {
      it(`${family.name}, ${authKind}-authenticated: only what ThoughtSpot needs arrives`, async () => {
        const username = newUser()
        // The browser's BFF session cookie comes along either way (a bearer request may carry it).
        const browserCookie = await stack.login({ sub: username })
        const sid = browserCookie.slice(browserCookie.indexOf('=') + 1)
        const appJwt = await stack.jwt({ sub: username })
        stack.simulator.state.clearCalls()

        let req = stack.request
          .post(family.path)
          .set(HOSTILE_HEADERS)
          .set(ORDINARY_HEADERS)
          .set('Content-Type', family.contentType)
          .set('Cookie', browserCookie)
        if (authKind === 'bearer') req = req.set('Authorization', `Bearer ${appJwt}`)
        const response = await req.send(family.body)
        assert.equal(response.status, 200, response.text)
        assert.equal(setCookies(response).length, 0, 'no Set-Cookie on a proxied response')

        const reached = stack.simulator.state.calls.filter(
          (call) => call.path === family.upstreamPath,
        )
        assert.equal(reached.length, 1)
        const call = reached[0]!
        const headers = call.headers
        const raw = JSON.stringify(headers)

        // The browser's credentials never arrive, in any header.
        assert.ok(!raw.includes(sid), 'the tsbff.sid value never arrives')
        assert.ok(!raw.includes(SESSION_COOKIE), 'the tsbff.sid name never arrives')
        assert.ok(!raw.includes(appJwt), 'the app JWT never arrives')

        if (family.credential === 'token') {
          assert.equal(headers.cookie, undefined, 'v2 gets no Cookie at all')
          const authorization = String(headers.authorization)
          const match = /^Bearer (\S+)$/.exec(authorization)
          assert.ok(match?.[1], `v2 Authorization: ${authorization}`)
          const issued = stack.simulator.state.tokens.get(match[1])
          assert.equal(issued?.username, username, 'a ThoughtSpot token issued for this user')
          assert.notEqual(match[1], appJwt)
        } else {
          assert.equal(headers.authorization, undefined, 'v1 gets no Authorization')
          const pairs = cookiePairs(headers.cookie)
          const names = pairs.map(([name]) => name).sort()
          assert.deepEqual(
            names,
            ['JSESSIONID', 'clientId'],
            `v1 cookies: ${String(headers.cookie)}`,
          )
          const jsessionid = pairs.find(([name]) => name === 'JSESSIONID')?.[1] ?? ''
          const held = stack.simulator.state.sessions.get(jsessionid)
          assert.equal(held?.username, username, 'the BFF-held ThoughtSpot session of this user')
          assert.equal(headers['x-requested-by'], 'ThoughtSpot')
        }

        for (const name of NEVER_ARRIVE) {
          assert.equal(headers[name], undefined, `${name} must not reach ThoughtSpot`)
        }
        assert.ok(!/x-secret-hop/i.test(raw), 'a header named in Connection is hop-by-hop')
        assert.ok(!raw.includes('evil.example') && !raw.includes('203.0.113.9'))
        assert.ok(!raw.includes(APP_ORIGIN), 'no Origin value anywhere')

        assert.equal(headers.accept, ORDINARY_HEADERS.Accept)
        assert.equal(headers['accept-language'], ORDINARY_HEADERS['Accept-Language'])
        assert.equal(headers['content-type'], family.contentType)
        assert.equal(headers['x-request-id'], ORDINARY_HEADERS['X-Request-Id'])
        assert.equal(call.body.toString('utf8'), family.body, 'the body arrives byte for byte')
      })
    }
  }

  it('an unsafe X-Request-Id is not forwarded as sent', async () => {
    const jwt = await stack.jwt({ sub: newUser() })
    stack.simulator.state.clearCalls()
    const response = await stack.request
      .post(`/ts${V2}/searchdata`)
      .set('Authorization', `Bearer ${jwt}`)
      .set('X-Request-Id', 'x'.repeat(200))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(SEARCH_V2_BODY))
    assert.equal(response.status, 200)
    const call = stack.simulator.state.callsTo(`${V2}/searchdata`)[0]
    assert.notEqual(call?.headers['x-request-id'], 'x'.repeat(200))
  })

  it('v1 session/login/token through the proxy: upstream Set-Cookie never reaches the browser', async () => {
    const username = newUser()
    const cookie = await stack.login({ sub: username })
    const minted = await stack.request.get('/ts/auth/token').set(HTTPS).set('Cookie', cookie)
    assert.equal(minted.status, 200, minted.text)
    const token = minted.text
    stack.simulator.state.clearCalls()
    const sessionsBefore = new Set(stack.simulator.state.sessions.keys())

    const response = await stack.request
      .post(`/ts${V1}/session/login/token`)
      .set(HTTPS)
      .set('Cookie', cookie)
      .set('X-CSRF', '1')
      .set('Origin', APP_ORIGIN)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(`auth_token=${encodeURIComponent(token)}&no_url_redirection=true`)

    assert.equal(response.status, 204, response.text)
    assert.equal(
      response.headers['set-cookie'],
      undefined,
      'no Set-Cookie, upstream’s nor the BFF’s',
    )

    // ThoughtSpot did answer with session cookies: the proxied login is the one without username.
    const logins = stack.simulator.state
      .callsTo(`${V1}/session/login/token`)
      .filter((call) => call.form?.auth_token === token && call.form.username === undefined)
    assert.equal(logins.length, 1)
    assert.equal(logins[0]?.status, 204)
    const proxied = logins[0]!
    assert.ok(!JSON.stringify(proxied.headers).includes(SESSION_COOKIE))
    assert.deepEqual(
      cookiePairs(proxied.headers.cookie)
        .map(([name]) => name)
        .sort(),
      ['JSESSIONID', 'clientId'],
    )

    const created = [...stack.simulator.state.sessions.values()].filter(
      (session) => !sessionsBefore.has(session.id) && session.username === username,
    )
    assert.ok(created.length >= 1, 'upstream created a session and sent its cookies')
    const everything = JSON.stringify(response.headers) + response.text
    for (const session of created) {
      assert.ok(!everything.includes(session.id), 'no JSESSIONID value reaches the browser')
      assert.ok(!everything.includes(session.clientId), 'no clientId value reaches the browser')
    }
    assert.ok(!everything.includes(token), 'the token is not echoed back')
  })
})
