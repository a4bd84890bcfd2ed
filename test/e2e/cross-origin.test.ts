/**
 * Cross origin, in real Chromium with no request interception: the demo page served by the app's
 * own origin, the BFF on another (listed in CORS_ORIGINS), ThoughtSpot (the simulator) on a
 * third. ThoughtSpot's own SDKs do the work; the assertions read what reached the simulator.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { DEMO_USERS } from '../../src/demo/users.js'
import { CATALOGUE, type RecordedCall } from '../../src/simulator/server.js'
import { launchBrowser, newContext, screenshot, watch, type Watch } from './browser.js'
import { startCrossOriginStack, type CrossOriginStack } from './cross-origin-stack.js'

const WORKSHEET = CATALOGUE.find((item) => item.name === 'Retail Sales')!.id
const LIVEBOARD = CATALOGUE.find((item) => item.name === 'Sales Overview')!.id

let stack: CrossOriginStack
let browser: Browser

before(async () => {
  stack = await startCrossOriginStack()
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await stack?.close()
})

const user = (id: string) => DEMO_USERS.find((each) => each.id === id)!

/** The bearer token of a recorded call, and whose it is at the simulator. */
function bearerOf(call: RecordedCall): string {
  return /^Bearer (\S+)$/.exec(String(call.headers.authorization ?? ''))?.[1] ?? ''
}
const ownerOf = (call: RecordedCall) => stack.simulator.state.tokens.get(bearerOf(call))?.username

/** Calls to a path (suffix) with a method, since the last clearCalls(). */
const calls = (method: string, suffix: string) =>
  stack.simulator.state.callsTo(suffix).filter((call) => call.method === method)

/**
 * The page's problems less the expected ones: the console line Chromium writes for each refused
 * call the page makes on purpose (`forbidden` 403s, `unauthorized` 401s), and isactive checks the
 * browser reports as aborted because the SDK reads only their status, never their (empty) body.
 */
function unexpected(seen: Watch, expected: { forbidden?: number; unauthorized?: number } = {}) {
  const allowance = { 403: expected.forbidden ?? 0, 401: expected.unauthorized ?? 0 }
  return seen.problems.filter((problem) => {
    if (problem.kind === 'request') {
      return !(problem.text === 'net::ERR_ABORTED' && problem.url.endsWith('/session/isactive'))
    }
    const status = /status of (40[13])/.exec(problem.text)?.[1] as '401' | '403' | undefined
    if (problem.kind !== 'console' || !status || allowance[status] === 0) return true
    allowance[status] -= 1
    return false
  })
}

/** What the REST SDK test page answers. */
interface RestResult {
  ok: boolean
  user?: string
  rows: unknown[][]
  status?: number
  body?: unknown
}

/** The demo page on the app's origin, ready to sign in. */
async function openDemo(context: BrowserContext): Promise<{ page: Page; seen: Watch }> {
  const page = await context.newPage()
  const seen = watch(page)
  await page.goto(`${stack.appUrl}/`)
  await page.locator('body[data-ready=true]').waitFor()
  return { page, seen }
}

async function signIn(page: Page, id: string): Promise<void> {
  await page.click(`#login-${id}`)
  await page.locator('#session-username', { hasText: user(id).claims.sub }).waitFor()
}

/** Waits until the SDK reports SUCCESS, the iframe loaded and the liveboard was drawn. */
async function embedSignedIn(page: Page): Promise<void> {
  await page.locator('#auth-status[data-status=SUCCESS]').waitFor()
  await page.locator('#embed[data-loaded=true][data-rendered=true]').waitFor()
}

describe('the Visual Embed SDK and the REST SDK on another origin than the BFF', () => {
  for (const id of ['alice', 'bob', 'carol']) {
    it(`signs ${id} in: AuthStatus.SUCCESS, Load, and only ${id}'s own token reaches ThoughtSpot`, async () => {
      const username = user(id).claims.sub
      const context = await newContext(browser)
      try {
        const { page, seen } = await openDemo(context)
        stack.simulator.state.clearCalls()
        await signIn(page, id)
        await embedSignedIn(page)
        const frame = page.frameLocator('#embed iframe')
        await frame.getByTestId('sim-user').getByText(username).waitFor()
        await page.locator('#refused[data-state=done]').waitFor()
        await screenshot(page, `cross-origin-${id}`)

        // The SDK's calls from the page went to ThoughtSpot with CORS, preflights included.
        const preflights = calls('OPTIONS', '/callosum/v1/session/isactive')
        assert.ok(preflights.length >= 1, 'isactive was preflighted')
        assert.ok(preflights.every((call) => call.headers.origin === stack.appUrl))
        const checks = calls('GET', '/callosum/v1/session/isactive')
        assert.ok(checks.length >= 1, 'the SDK checked its token with isactive')
        const data = calls('POST', '/api/rest/2.0/metadata/liveboard/data')
        assert.ok(data.length >= 1, 'the embed fetched its data')
        for (const call of [...checks, ...data, ...calls('GET', '/callosum/v1/session/info')]) {
          assert.equal(ownerOf(call), username, `${call.method} ${call.path}`)
          assert.equal(call.status, 200, `${call.method} ${call.path}`)
        }

        const mints = stack.simulator.state.calls.filter((call) =>
          /\/auth\/token\//.test(call.path),
        )
        const mintPaths = new Set(mints.map((call) => call.path.split('/').at(-1)))
        const rest = calls('POST', '/api/rest/2.0/searchdata')
        if (id === 'carol') {
          // REPORT_BOOK_VIEW: object-scoped tokens only, and no proxied call at all.
          assert.deepEqual([...mintPaths], ['object'])
          assert.equal((mints[0]?.json as { object_id?: string }).object_id, LIVEBOARD)
          await page.locator('#rest-status[data-state=refused]', { hasText: 'DENIED' }).waitFor()
          assert.equal(rest.length, 0)
          const full = await page.evaluate(async (bff) => {
            const r = await fetch(`${bff}/ts/auth/token`, { credentials: 'include' })
            return { status: r.status, body: await r.text() }
          }, stack.bffUrl)
          assert.equal(full.status, 403)
          assert.equal(JSON.parse(full.body).error.code, 'DENIED')
        } else {
          assert.deepEqual([...mintPaths], [id === 'bob' ? 'custom' : 'full'])
          await page.locator('#rest-status[data-state=ok]').waitFor()
          assert.equal(rest.length, 1)
          assert.equal(ownerOf(rest[0]!), username, 'the REST SDK call carried the user’s token')
          assert.match(String(rest[0]!.headers['x-thoughtspot-client']), /ThoughtSpot-ts-client/)
        }
        if (id === 'bob') {
          const [mint] = mints
          assert.deepEqual((mint?.json as { filter_rules: unknown }).filter_rules, [
            { column_name: 'Region', operator: 'IN', values: ['EMEA', 'APAC'] },
          ])
          assert.equal((mint?.json as { org_identifier: string }).org_identifier, '42')
          assert.deepEqual(
            await page.locator('#rest-table tbody tr td:first-child').allTextContents(),
            ['EMEA', 'APAC'],
          )
        }
        const refused = JSON.parse(
          (await page.locator('#refused').textContent())!.replace(/^HTTP \d+\n/, ''),
        )
        assert.equal(refused.error.code, id === 'carol' ? 'DENIED' : 'ROUTE_NOT_ALLOWED')
        assert.equal(calls('POST', '/api/rest/2.0/users/search').length, 0)

        assert.deepEqual(await seen.cspViolations(), [])
        // 403s on purpose: users/search; for carol also searchdata and a token without objectId.
        assert.deepEqual(unexpected(seen, { forbidden: id === 'carol' ? 3 : 1 }), [])
      } finally {
        await context.close()
      }
    })
  }

  it('the REST SDK works cross-origin with a bearer app JWT, and with the cookie plus X-CSRF', async () => {
    const context = await newContext(browser)
    try {
      const page = await context.newPage()
      await page.goto(`${stack.appUrl}/rest-sdk.html`)
      await page.waitForFunction(() => 'restSdk' in window)
      const run = (jwt?: string, base = `${stack.bffUrl}/ts`) =>
        page.evaluate(
          (args) =>
            (window as unknown as { restSdk: (a: unknown) => Promise<RestResult> }).restSdk(args),
          { base, worksheet: WORKSHEET, ...(jwt ? { jwt } : {}) },
        )

      stack.simulator.state.clearCalls()
      const jwt = await stack.jwtFor('alice')
      const bearer = await run(jwt)
      assert.equal(bearer.ok, true, JSON.stringify(bearer))
      assert.equal(bearer.user, 'alice@acme.com')
      assert.equal(bearer.rows.length, 6)
      const [byBearer] = calls('POST', '/api/rest/2.0/searchdata')
      assert.equal(ownerOf(byBearer!), 'alice@acme.com')
      assert.equal(byBearer!.headers.cookie, undefined)

      // A base URL with a trailing slash: the SDK asks for //api/…, and the BFF says why it refuses.
      stack.simulator.state.clearCalls()
      const slash = await run(jwt, `${stack.bffUrl}/ts/`)
      assert.equal(slash.ok, false)
      assert.equal(slash.status, 400)
      const refusal = (slash.body as { error: { code: string; message: string } }).error
      assert.equal(refusal.code, 'BAD_PATH')
      assert.match(refusal.message, /base URL .*trailing|ends in a slash/)
      assert.equal(stack.simulator.state.calls.length, 0)

      const withoutSession = await run()
      assert.equal(withoutSession.ok, false)
      assert.equal(withoutSession.status, 401)

      stack.simulator.state.clearCalls()
      const login = await page.evaluate(
        async ({ bff, token }) => {
          const r = await fetch(`${bff}/ts/session`, {
            method: 'POST',
            credentials: 'include',
            headers: { Authorization: `Bearer ${token}` },
          })
          return r.status
        },
        { bff: stack.bffUrl, token: await stack.jwtFor('bob') },
      )
      assert.equal(login, 200)
      const cookie = await run()
      assert.equal(cookie.ok, true, JSON.stringify(cookie))
      assert.equal(cookie.user, 'bob@globex.com')
      assert.deepEqual(
        cookie.rows.map((row) => row[0]),
        ['EMEA', 'APAC'],
      )
      assert.equal(ownerOf(calls('POST', '/api/rest/2.0/searchdata')[0]!), 'bob@globex.com')

      // A v1 caller's X-Requested-By passes the BFF's preflight too.
      const v1 = await page.evaluate(async (bff) => {
        const r = await fetch(`${bff}/ts/callosum/v1/tspublic/v1/session/info`, {
          credentials: 'include',
          headers: { 'X-Requested-By': 'ThoughtSpot' },
        })
        return { status: r.status, body: (await r.json()) as { userName: string } }
      }, stack.bffUrl)
      assert.equal(v1.status, 200)
      assert.equal(v1.body.userName, 'bob@globex.com')

      const noCsrf = await page.evaluate(
        async ({ bff, worksheet }) => {
          const r = await fetch(`${bff}/ts/api/rest/2.0/searchdata`, {
            method: 'POST',
            credentials: 'include',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ logical_table_identifier: worksheet, query_string: '[Region]' }),
          })
          return { status: r.status, body: (await r.json()) as { error: { code: string } } }
        },
        { bff: stack.bffUrl, worksheet: WORKSHEET },
      )
      assert.equal(noCsrf.status, 403)
      assert.equal(noCsrf.body.error.code, 'CSRF')
      assert.equal(calls('POST', '/api/rest/2.0/searchdata').length, 1, 'the refused call stayed')
    } finally {
      await context.close()
    }
  })

  it('a page on an origin not in CORS_ORIGINS cannot read /ts/auth/token', async () => {
    const context = await newContext(browser)
    try {
      const { page } = await openDemo(context)
      await signIn(page, 'alice')
      await embedSignedIn(page)
      const stranger = await context.newPage()
      await stranger.goto(`${stack.strangerUrl}/`)
      const attempts = await stranger.evaluate(async (bff) => {
        const tries: RequestInit[] = [
          { credentials: 'include' },
          { credentials: 'include', headers: { Accept: 'application/json', 'X-CSRF': '1' } },
        ]
        return Promise.all(
          tries.map((init) =>
            fetch(`${bff}/ts/auth/token`, init).then(
              async (r) => `read ${r.status}: ${await r.text()}`,
              (error: unknown) => `blocked: ${String(error)}`,
            ),
          ),
        )
      }, stack.bffUrl)
      for (const attempt of attempts) assert.match(attempt, /^blocked: TypeError/)
    } finally {
      await context.close()
    }
  })

  it('DevTools-style cache disabling sends no-cache on every request, and the BFF mints once', async () => {
    const context = await newContext(browser)
    try {
      const { page } = await openDemo(context)
      // Start with no cached token: a logout drops the user's tokens from the BFF's cache.
      await signIn(page, 'alice')
      await embedSignedIn(page)
      await page.click('#logout')
      await page.locator('#session-empty:visible').waitFor()

      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.enable')
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
      // allHeaders(): what went on the wire, with the headers the network stack added.
      const tokenRequests: Promise<string>[] = []
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/ts/auth/token') {
          tokenRequests.push(request.allHeaders().then((headers) => headers['cache-control'] ?? ''))
        }
      })
      await page.reload()
      await page.locator('body[data-ready=true]').waitFor()
      stack.simulator.state.clearCalls()
      await signIn(page, 'alice')
      await embedSignedIn(page)
      const again = await page.evaluate(async (bff) => {
        const statuses: number[] = []
        for (let i = 0; i < 3; i++) {
          statuses.push((await fetch(`${bff}/ts/auth/token`, { credentials: 'include' })).status)
        }
        return statuses
      }, stack.bffUrl)
      assert.deepEqual(again, [200, 200, 200])
      const cacheControl = await Promise.all(tokenRequests)
      assert.ok(cacheControl.length >= 4, `token requests: ${cacheControl.length}`)
      assert.ok(
        cacheControl.every((value) => value === 'no-cache'),
        cacheControl.join(', '),
      )
      const mints = calls('POST', '/api/rest/2.0/auth/token/full')
      assert.equal(mints.length, 1, 'one mint for every token request')
      await cdp.detach()
    } finally {
      await context.close()
    }
  })

  it('a token refused mid-session: the embed reports AuthExpire and the SDK hands it the BFF’s current one', async () => {
    const context = await newContext(browser)
    try {
      const { page, seen } = await openDemo(context)
      await signIn(page, 'alice')
      await embedSignedIn(page)
      const frame = page.frameLocator('#embed iframe')
      await frame.locator('body[data-loads="1"]').waitFor()
      const old = bearerOf(calls('POST', '/api/rest/2.0/metadata/liveboard/data').at(-1)!)
      // The BFF mints a replacement (and caches it); ThoughtSpot then revokes the old one.
      const fresh = await page.evaluate(async (bff) => {
        const r = await fetch(`${bff}/ts/auth/token?fresh=true`, { credentials: 'include' })
        return r.text()
      }, stack.bffUrl)
      assert.notEqual(fresh, old)
      stack.simulator.state.tokens.get(old)!.revoked = true
      stack.simulator.state.clearCalls()
      const mark = seen.problems.length

      await frame.locator('#sim-reload').click()
      await frame.locator('body[data-loads="2"]').waitFor()
      await page.locator('#sdk-events li', { hasText: 'EmbedEvent.AuthExpire' }).waitFor()
      const info = calls('GET', '/callosum/v1/session/info')
      assert.deepEqual(
        info.map((call) => [
          bearerOf(call) === old ? 'old' : bearerOf(call) === fresh ? 'new' : '?',
          call.status,
        ]),
        [
          ['old', 401],
          ['new', 200],
        ],
      )
      const checks = calls('GET', '/callosum/v1/session/isactive')
      assert.ok(checks.some((call) => bearerOf(call) === old && call.status === 401))
      assert.ok(checks.some((call) => bearerOf(call) === fresh && call.status === 200))
      const data = calls('POST', '/api/rest/2.0/metadata/liveboard/data')
      assert.ok(data.length >= 1 && data.every((call) => bearerOf(call) === fresh))
      assert.equal(calls('POST', '/api/rest/2.0/auth/token/full').length, 0, 'the BFF had one')
      assert.equal(await page.locator('#auth-status').getAttribute('data-status'), 'SUCCESS')
      // Chromium logs the refused session/info and isactive calls.
      assert.deepEqual(
        unexpected({ ...seen, problems: seen.problems.slice(mark) }, { unauthorized: 2 }),
        [],
      )
    } finally {
      await context.close()
    }
  })

  for (const cookie of [false, true]) {
    const flow = cookie ? 'the cookie flow (session/login/token)' : 'cookieless'
    it(`SearchEmbed (the /v2/…#/embed/answer iframe), ${flow}: signs in and draws the search`, async () => {
      const context = await newContext(browser)
      try {
        const page = await context.newPage()
        await page.goto(`${stack.appUrl}/search-embed.html`)
        await page.waitForFunction(() => 'embedSearch' in window)
        const token = await stack.jwtFor('bob')
        const login = await page.evaluate(
          async ({ bff, jwt }) =>
            (
              await fetch(`${bff}/ts/session`, {
                method: 'POST',
                credentials: 'include',
                headers: { Authorization: `Bearer ${jwt}` },
              })
            ).status,
          { bff: stack.bffUrl, jwt: token },
        )
        assert.equal(login, 200)
        stack.simulator.state.clearCalls()
        await page.evaluate(
          (options) =>
            (window as unknown as { embedSearch: (o: unknown) => void }).embedSearch(options),
          {
            thoughtSpotHost: stack.simulator.url,
            bff: stack.bffUrl,
            dataSource: WORKSHEET,
            query: '[Region] [Total Sales]',
            cookie,
          },
        )
        await page.waitForFunction(() => {
          const events = (window as unknown as { sdkEvents: string[] }).sdkEvents
          return ['SUCCESS', 'Load', 'AuthInit'].every((name) => events.includes(name))
        })
        const src = new URL((await page.locator('#embed iframe').getAttribute('src'))!)
        assert.equal(src.pathname, '/v2/')
        assert.equal(src.hash, '#/embed/answer')
        const frame = page.frameLocator('#embed iframe')
        await frame.getByTestId('sim-user').getByText('bob@globex.com').waitFor()
        assert.deepEqual(await frame.locator('tbody tr td:first-child').allTextContents(), [
          'EMEA',
          'APAC',
        ])
        const [search] = calls('POST', '/api/rest/2.0/searchdata')
        if (cookie) {
          // The SDK traded the token for a ThoughtSpot cookie session; the iframe uses the cookie.
          const [login] = calls('POST', '/callosum/v1/session/login/token')
          assert.equal(login?.headers.origin, stack.appUrl)
          assert.equal(login.status, 302)
          assert.equal(search!.headers.authorization, undefined)
          const id = /JSESSIONID=([^;]+)/.exec(String(search!.headers.cookie))?.[1] ?? ''
          assert.equal(stack.simulator.state.sessions.get(id)?.username, 'bob@globex.com')
        } else {
          assert.equal(ownerOf(search!), 'bob@globex.com')
        }
        assert.equal(
          (search!.json as { logical_table_identifier: string }).logical_table_identifier,
          WORKSHEET,
        )
        await screenshot(page, `cross-origin-search${cookie ? '-cookie' : ''}`)
      } finally {
        await context.close()
      }
    })
  }

  it('after logout the SDK gets no token and reports failure; the old token is refused', async () => {
    const context = await newContext(browser)
    try {
      const { page } = await openDemo(context)
      await signIn(page, 'alice')
      await embedSignedIn(page)
      const token = bearerOf(calls('POST', '/api/rest/2.0/metadata/liveboard/data').at(-1)!)
      assert.equal(stack.simulator.state.tokens.get(token)?.username, 'alice@acme.com')
      stack.simulator.state.clearCalls()
      const refusedToken = page.waitForResponse(
        (r) => new URL(r.url()).pathname === '/ts/auth/token' && r.status() === 401,
      )
      await page.click('#logout')
      await page.locator('#auth-status[data-status=FAILURE]').waitFor()
      await refusedToken
      await page.locator('#embed', { hasText: 'Not signed in to ThoughtSpot' }).waitFor()
      assert.equal(await page.locator('#embed iframe').count(), 0)
      await screenshot(page, 'cross-origin-logged-out')

      // Logout revokes every live token minted for Alice (earlier tests minted more than one).
      const revoked = calls('POST', '/api/rest/2.0/auth/token/revoke').map(bearerOf)
      assert.ok(revoked.includes(token), 'the token in use is revoked')
      for (const each of revoked) {
        assert.equal(stack.simulator.state.tokens.get(each)?.username, 'alice@acme.com')
      }
      assert.equal(stack.simulator.state.tokens.get(token)?.revoked, true)
      const stale = calls('GET', '/callosum/v1/session/isactive')
      assert.ok(stale.length >= 1, 'the SDK checked its cached token again')
      assert.ok(stale.every((call) => bearerOf(call) === token && call.status === 401))
      assert.equal(calls('POST', '/api/rest/2.0/auth/token/full').length, 0, 'nothing minted')
    } finally {
      await context.close()
    }
  })
})
