/**
 * End to end, same origin, as a newcomer sees it: `src/main.ts` with no configuration (demo mode:
 * simulator + demo IdP + BFF) as a child process, the demo page in real headless Chromium with no
 * request interception. Each demo user signs in; the real Visual Embed SDK signs the embed in and
 * renews its token; the real REST SDK calls through the BFF; logout stops the embed. Tokens live
 * 30 s here so that the SDK's renewal happens during the test.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, BrowserContext, Cookie, FrameLocator, Page } from 'playwright-core'
import YAML from 'yaml'
import { buildFrontEnd } from '../../scripts/build-front-end.js'
import {
  launchBrowser,
  newContext,
  screenshot,
  watch,
  type Problem,
  type Watch,
} from './browser.js'
import { ROOT, startDemoBff, stopDemoBff, type DemoProcess } from './demo-process.js'

const configDir = mkdtempSync(join(tmpdir(), 'tsbff-demo-'))
after(() => rmSync(configDir, { recursive: true, force: true }))

/** config/default.yaml with `tokens.minRemainingSeconds` fitting the short token life. */
function shortTokenConfig(): string {
  const tree = YAML.parse(readFileSync(join(ROOT, 'config/default.yaml'), 'utf8')) as {
    tokens: Record<string, number>
  }
  tree.tokens.minRemainingSeconds = 10
  const path = join(configDir, 'config.yaml')
  writeFileSync(path, YAML.stringify(tree))
  return path
}

const COOKIE_NAME = 'tsbff.sid' // session.cookieName in config/default.yaml
const TOKEN_SECONDS = 30
const RENEWAL_TIMEOUT_MS = 90_000

let demo: DemoProcess
let browser: Browser | undefined
let context: BrowserContext
let page: Page
let seen: Watch
let origin: string
let simulatorOrigin: string
/** Where the current step's problems start in `seen.problems`. */
let mark = 0
/** Every request the page made to the BFF, as "METHOD /path", in order. */
const bffCalls: string[] = []

before(async () => {
  await buildFrontEnd()
  demo = await startDemoBff({
    TS_TOKEN_VALIDITY_SECONDS: String(TOKEN_SECONDS),
    // The shipped config, but a token is handed out down to 10 s of life (at most half of 30).
    BFF_CONFIG: shortTokenConfig(),
  })
  origin = new URL(demo.url).origin
  simulatorOrigin = /simulator at (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.output())?.[1] ?? ''
  browser = await launchBrowser()
  context = await newContext(browser)
  page = await context.newPage()
  seen = watch(page)
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (url.origin === origin) bffCalls.push(`${request.method()} ${url.pathname}`)
  })
})

after(async () => {
  await browser?.close()
  await stopDemoBff(demo)
})

const embedFrame = (): FrameLocator => page.frameLocator('#embed iframe')

async function text(selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim()
}

async function sessionCookie(): Promise<Cookie | undefined> {
  return (await context.cookies(demo.url)).find((cookie) => cookie.name === COOKIE_NAME)
}

/** Signs a demo user in through the page and waits for the whole page to be done. */
async function signIn(id: string, username: string): Promise<void> {
  mark = seen.problems.length
  await page.click(`#login-${id}`)
  await page.locator('#session-username', { hasText: username }).waitFor()
  await page.locator('#auth-status[data-status=SUCCESS]').waitFor()
  await page.locator('#embed[data-loaded=true][data-rendered=true]').waitFor()
  await embedFrame().getByTestId('sim-user').getByText(username).waitFor()
  await page.locator('#refused[data-state=done]').waitFor()
}

const embedColumn = (index: number) =>
  embedFrame().locator(`.sim-card:first-child tbody tr td:nth-child(${index})`).allTextContents()

/** Problems less the refused calls the page makes on purpose (one console line each). */
function unexpected(problems: readonly Problem[], refused: { 401?: number; 403?: number }) {
  const allowance = { 401: refused[401] ?? 0, 403: refused[403] ?? 0 }
  return problems.filter((problem) => {
    // The SDK reads only the status of its isactive checks; Chromium calls the unread body aborted.
    if (problem.kind === 'request') {
      return !(problem.text === 'net::ERR_ABORTED' && problem.url.endsWith('/session/isactive'))
    }
    const status = /status of (40[13])/.exec(problem.text)?.[1] as '401' | '403' | undefined
    if (problem.kind !== 'console' || !status || allowance[status] === 0) return true
    allowance[status] -= 1
    return false
  })
}

test('npm start without configuration runs demo mode with a simulator', () => {
  assert.match(demo.output(), /started a local ThoughtSpot simulator at http:\/\/127\.0\.0\.1:\d+/)
  assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  assert.notEqual(simulatorOrigin, '')
})

test('the page loads under its own tight CSP, which allows exactly the simulator', async () => {
  const response = await page.goto(demo.url)
  assert.ok(response)
  assert.equal(response.status(), 200)
  const policy = response.headers()['content-security-policy'] ?? ''
  assert.match(policy, /script-src 'self'(;|$)/)
  assert.match(policy, new RegExp(`frame-src ${simulatorOrigin}(;|$)`))
  assert.match(policy, new RegExp(`connect-src 'self' ${simulatorOrigin}(;|$)`))
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|\*/)
  assert.equal(await page.title(), 'thoughtspot-bff · demo')
  await page.locator('body[data-ready=true]').waitFor()
  assert.equal(await page.locator('#users button').count(), 3)
  assert.equal(await page.locator('#logout').isDisabled(), true)
  assert.deepEqual(await seen.cspViolations(), [])
  assert.deepEqual(unexpected(seen.problems, {}), [])
})

test('Alice signs in: her mapping, the embed signed in by the SDK, her data, a refused admin call', async () => {
  await signIn('alice', 'alice@acme.com')
  const groups = await page.locator('#session-groups li').allTextContents()
  assert.deepEqual([...groups].sort(), ['analysts', 'embed_viewers'])
  assert.equal(await text('#session-org'), '0')
  assert.equal(await text('#session-access'), 'FULL')

  const cookie = await sessionCookie()
  assert.ok(cookie, `no ${COOKIE_NAME} cookie`)
  assert.equal(cookie.httpOnly, true)
  assert.ok(['Lax', 'Strict'].includes(cookie.sameSite), cookie.sameSite)
  const stored = await page.evaluate(() =>
    JSON.stringify([document.cookie, Object.entries(localStorage), Object.entries(sessionStorage)]),
  )
  assert.doesNotMatch(stored, /eyJ/, 'the page keeps no JWT')

  // The SDK's own events; these pairs always come in this order.
  const events = (await page.locator('#sdk-events li').allTextContents()).reverse().join('\n')
  const before = (first: string, second: string) => {
    const [a, b] = [events.indexOf(first), events.indexOf(second)]
    assert.ok(a >= 0 && b > a, `${first} before ${second}:\n${events}`)
  }
  before('AuthStatus.SDK_SUCCESS', 'EmbedEvent.Load')
  before('EmbedEvent.AuthInit', 'AuthStatus.SUCCESS')

  // The simulator drew Alice's data: every Acme region, with the analysts-only Margin column.
  const header = await embedFrame().locator('.sim-card:first-child th').allTextContents()
  assert.deepEqual(header, ['Region', 'Total Sales', 'Margin'])
  assert.equal((await embedColumn(1)).length, 6)
  assert.equal(await embedFrame().locator('.sim-card svg rect').count(), 12)

  // The REST SDK's searchData through the BFF, and the refused admin call's SPEC error.
  assert.equal(await page.locator('#rest-status').getAttribute('data-state'), 'ok')
  assert.equal(await page.locator('#rest-table tbody tr').count(), 6)
  const refused = JSON.parse((await text('#refused')).replace(/^HTTP 403\s*/, ''))
  assert.equal(refused.error.code, 'ROUTE_NOT_ALLOWED')
  assert.match(refused.error.requestId, /\S/)
  assert.equal(await text('#token-kind'), 'full access')

  // The token's life counts down.
  const shown = await text('#token-left')
  await page.waitForFunction(
    (before) => document.getElementById('token-left')?.textContent !== before,
    shown,
  )
  assert.deepEqual(unexpected(seen.problems.slice(mark), { 403: 1 }), [])
  await screenshot(page, 'demo', { fullPage: true })
  await screenshot(page, 'demo-alice')
})

test(
  'the SDK renews the token before it ends: RefreshAuthToken, then a new token from the BFF',
  { timeout: RENEWAL_TIMEOUT_MS + 10_000 },
  async () => {
    await page.locator('#token[data-token="2"]').waitFor({ timeout: RENEWAL_TIMEOUT_MS })
    const events = (await page.locator('#sdk-events li').allTextContents()).join('\n')
    assert.match(events, /EmbedEvent\.RefreshAuthToken/)
    assert.match(events, /getAuthToken → a new token/)
    await embedFrame().locator('#sim-token', { hasText: 'renewed 1×' }).waitFor()
    assert.equal(await page.locator('#auth-status').getAttribute('data-status'), 'SUCCESS')
    assert.deepEqual(unexpected(seen.problems.slice(mark), { 403: 1 }), [])
    assert.deepEqual(
      bffCalls.filter((call) => call === 'GET /ts/auth/token').length,
      2,
      'one token at start, one renewal',
    )
  },
)

test('switching to Bob logs Alice out first; Bob sees Globex data through his row filter', async () => {
  bffCalls.length = 0
  await signIn('bob', 'bob@globex.com')
  const switched = bffCalls.filter((call) => /\/ts\/session$/.test(call))
  assert.deepEqual(switched.slice(0, 3), [
    'DELETE /ts/session',
    'POST /ts/session',
    'GET /ts/session',
  ])
  assert.deepEqual(await page.locator('#session-groups li').allTextContents(), ['embed_viewers'])
  assert.equal(await text('#session-org'), '42')
  assert.deepEqual(await embedColumn(1), ['EMEA', 'APAC'])
  const header = await embedFrame().locator('.sim-card:first-child th').allTextContents()
  assert.deepEqual(header, ['Region', 'Total Sales'], 'no Margin outside analysts')
  assert.deepEqual(await page.locator('#rest-table tbody tr td:first-child').allTextContents(), [
    'EMEA',
    'APAC',
  ])
  assert.deepEqual(unexpected(seen.problems.slice(mark), { 403: 1 }), [])
  await screenshot(page, 'demo-bob')
})

test('Carol (REPORT_BOOK_VIEW): an object-scoped token, the liveboard only, REST refused', async () => {
  await signIn('carol', 'carol@acme.com')
  assert.equal(await text('#session-access'), 'REPORT_BOOK_VIEW')
  assert.match(await text('#token-kind'), /object-scoped/)
  assert.ok(bffCalls.some((call) => call === 'GET /ts/auth/token'))
  await page.locator('#rest-status[data-state=refused]').waitFor()
  assert.match(await text('#rest-status'), /DENIED/)
  const refused = JSON.parse((await text('#refused')).replace(/^HTTP 403\s*/, ''))
  assert.equal(refused.error.code, 'DENIED')
  assert.equal((await embedColumn(1)).length, 6)
  assert.deepEqual(unexpected(seen.problems.slice(mark), { 403: 2 }), [])
  await screenshot(page, 'demo-carol')
})

test('a reload carries on with the session the cookie holds', async () => {
  mark = seen.problems.length
  await page.reload()
  await page.locator('#session-username', { hasText: 'carol@acme.com' }).waitFor()
  await page.locator('#auth-status[data-status=SUCCESS]').waitFor()
  await embedFrame().getByTestId('sim-user').getByText('carol@acme.com').waitFor()
  await page.locator('#refused[data-state=done]').waitFor()
  assert.deepEqual(unexpected(seen.problems.slice(mark), { 403: 2 }), [])
})

test('logging out revokes: the embed reloads, gets no token and the SDK reports failure', async () => {
  const before = seen.problems.length
  await page.click('#logout')
  await page.locator('#session-empty:visible').waitFor()
  await page.locator('#auth-status[data-status=FAILURE]').waitFor()
  await page.locator('#embed', { hasText: 'Not signed in to ThoughtSpot' }).waitFor()
  assert.equal(await page.locator('#embed iframe').count(), 0)
  assert.equal(await sessionCookie(), undefined)
  assert.equal(await page.locator('#token').isHidden(), true)
  const status = await page.evaluate(() => fetch('/ts/session').then((r) => r.status))
  assert.equal(status, 401)
  await screenshot(page, 'demo-logged-out')
  // What the browser logs meanwhile: the refused token requests and the SDK's own complaints.
  const after = seen.problems.slice(before)
  assert.ok(
    after.some((problem) => problem.url.endsWith('/ts/auth/token')),
    JSON.stringify(after),
  )
})

test('the page fits a 400 px wide screen', async () => {
  await page.setViewportSize({ width: 400, height: 800 })
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  )
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 400 px wide`)
  await screenshot(page, 'demo-400', { fullPage: true })
})

test('no CSP violations, and requests only to the BFF and the simulator', async () => {
  assert.deepEqual(await seen.cspViolations(), [])
  const elsewhere = seen.requests.filter(
    (url) =>
      !url.startsWith(`${origin}/`) &&
      !url.startsWith(`${simulatorOrigin}/`) &&
      !url.startsWith('data:'),
  )
  assert.deepEqual(elsewhere, [])
})

test('SIGTERM stops the BFF and its simulator cleanly', { timeout: 30_000 }, async () => {
  await browser?.close()
  browser = undefined
  assert.equal(await stopDemoBff(demo), 0)
})
