/**
 * End to end: `src/main.ts` with no configuration (demo mode: simulator + demo IdP + BFF) as a
 * child process, driven through the demo page by real headless Chromium. Checks what an embedding
 * app relies on: login → HttpOnly session cookie → mapped session → cached/forced tokens → logout,
 * under helmet's CSP, with no console errors and no network beyond the BFF.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Cookie,
  type Page,
} from 'playwright-core'
import { ROOT, startDemoBff, stopDemoBff, type DemoProcess } from './demo-process.js'

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
]
const RESULTS = join(ROOT, 'test-results')
const COOKIE_NAME = 'tsbff.sid' // session.cookieName in config/default.yaml
const DESKTOP = { width: 1280, height: 800 }

// Records CSP violations before any page script runs (an init script is not subject to the CSP).
const CSP_RECORDER = `
  window.__cspViolations = []
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))
`

interface Problem {
  text: string
  url: string
}

let demo: DemoProcess
let browser: Browser | undefined
let context: BrowserContext
let page: Page
let origin: string
const problems: Problem[] = [] // console errors and uncaught exceptions
const offOrigin: string[] = [] // requests anywhere but the BFF
const failed: string[] = [] // requests that failed at the network level

before(async () => {
  mkdirSync(RESULTS, { recursive: true })
  demo = await startDemoBff()
  origin = new URL(demo.url).origin
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  context = await browser.newContext({ viewport: DESKTOP })
  await context.addInitScript({ content: CSP_RECORDER })
  page = await context.newPage()
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push({ text: message.text(), url: message.location().url })
    }
  })
  page.on('pageerror', (err) => problems.push({ text: `uncaught: ${err.message}`, url: '' }))
  page.on('request', (request) => {
    const url = request.url()
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) offOrigin.push(url)
  })
  page.on('requestfailed', (request) => {
    failed.push(`${request.url()} ${request.failure()?.errorText ?? ''}`)
  })
})

after(async () => {
  await browser?.close()
  await stopDemoBff(demo)
})

/** Console errors, less one "401" per path the test provoked on purpose; plus CSP violations. */
async function unexpectedProblems(expected401: string[] = []): Promise<string[]> {
  const allowance = [...expected401]
  const left = problems.filter((problem) => {
    const index = allowance.findIndex(
      (path) => problem.url === `${origin}${path}` && problem.text.includes('401'),
    )
    if (index === -1) return true
    allowance.splice(index, 1)
    return false
  })
  const csp = await page.evaluate(
    () => (window as unknown as { __cspViolations: string[] }).__cspViolations,
  )
  return [...left.map((p) => `console: ${p.text} (${p.url})`), ...csp.map((v) => `CSP: ${v}`)]
}

async function sessionCookie(): Promise<Cookie | undefined> {
  return (await context.cookies(demo.url)).find((cookie) => cookie.name === COOKIE_NAME)
}

async function text(selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim()
}

/** Logs in through the page and waits until GET /ts/session (cookie only) has confirmed it. */
async function logIn(user: 'alice' | 'bob'): Promise<string[]> {
  await page.click(`#login-${user}`)
  await page.locator('#session-source', { hasText: 'Confirmed by GET /ts/session' }).waitFor()
  return page.locator('#session-groups li').allTextContents()
}

/** Clicks a token button: the BFF's answer (with the full token) and what the page shows. */
async function fetchToken(button: '#get-token' | '#fresh-token', historyLength: number) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/ts/auth/token'),
    page.click(button),
  ])
  assert.equal(response.status(), 200)
  const body = (await response.json()) as { token: string; username: string; expiresAt: string }
  await page
    .locator('#token-history li')
    .nth(historyLength - 1)
    .waitFor()
  return {
    ...body,
    shown: await text('#token-value'),
    note: await text('#token-history li:first-child'),
  }
}

test('npm start without configuration runs demo mode with a simulator', () => {
  assert.match(demo.output(), /started a local ThoughtSpot simulator at http:\/\/127\.0\.0\.1:\d+/)
  assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
})

test('the page loads under helmet’s CSP with no errors', async () => {
  const response = await page.goto(demo.url)
  assert.ok(response)
  assert.equal(response.status(), 200)
  assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/)
  assert.equal(await page.title(), 'thoughtspot-bff · demo')
  await page.locator('#login-alice:enabled').waitFor()
  assert.equal(await page.locator('#get-token').isDisabled(), true)
  assert.match(await text('pre'), /TrustedAuthTokenCookieless/)
  assert.deepEqual(await unexpectedProblems(), [])
})

test('Alice logs in: mapped session shown, HttpOnly cookie, no JWT kept', async () => {
  const groups = await logIn('alice')
  assert.equal(await text('#session-username'), 'alice@acme.com')
  assert.ok(groups.includes('analysts'), `groups: ${groups.join(', ')}`)
  assert.ok(groups.includes('embed_viewers'), `groups: ${groups.join(', ')}`)
  assert.equal(await text('#session-org'), '0')
  assert.equal(await text('#session-access'), 'FULL')
  assert.notEqual(await text('#session-expires'), '')

  const cookie = await sessionCookie()
  assert.ok(cookie, `no ${COOKIE_NAME} cookie`)
  assert.equal(cookie.httpOnly, true)
  assert.ok(['Lax', 'Strict'].includes(cookie.sameSite), cookie.sameSite)
  assert.doesNotMatch(await page.evaluate(() => document.cookie), new RegExp(COOKIE_NAME))
  const stored = await page.evaluate(() =>
    JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)]),
  )
  assert.doesNotMatch(stored, /eyJ/, 'the page must not keep the app JWT')
})

let aliceToken = ''

test('a token is shown; the same again (cache); a new one when forced', async () => {
  const one = await fetchToken('#get-token', 1)
  assert.equal(one.username, 'alice@acme.com')
  assert.ok(one.token.length > 12)
  assert.equal(one.shown, `${one.token.slice(0, 12)}…`)
  assert.notEqual(await text('#token-expires'), '')

  const two = await fetchToken('#get-token', 2)
  assert.equal(two.token, one.token, 'a second plain request is served from the cache')
  assert.equal(two.shown, one.shown)
  assert.match(two.note, /cache/)

  const three = await fetchToken('#fresh-token', 3)
  assert.notEqual(three.token, one.token, '?fresh=true mints a new token')
  assert.equal(three.shown, `${three.token.slice(0, 12)}…`)
  assert.match(three.note, /new token/)
  aliceToken = three.token
  assert.deepEqual(await unexpectedProblems(), [])
})

test('screenshots at 1280x800 and 400 px wide', async () => {
  await page.screenshot({ path: join(RESULTS, 'demo.png') })
  await page.setViewportSize({ width: 400, height: 800 })
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  )
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 400 px wide`)
  await page.screenshot({ path: join(RESULTS, 'demo-400.png'), fullPage: true })
  await page.setViewportSize(DESKTOP)
})

test('logging out clears the page and the session', async () => {
  await page.click('#logout')
  await page.locator('#session').waitFor({ state: 'hidden' })
  await page.locator('#session-empty').waitFor()
  await page.locator('#token').waitFor({ state: 'hidden' })
  assert.equal(await page.locator('#token-history li').count(), 0)
  assert.equal(await text('#token-value'), '')
  assert.equal(await page.locator('#get-token').isDisabled(), true)
  assert.equal(await page.locator('#logout').isDisabled(), true)
  assert.equal(await sessionCookie(), undefined)
  assert.deepEqual(await unexpectedProblems(), [])
  const status = await page.evaluate(() =>
    fetch('/ts/session', { credentials: 'same-origin' }).then((r) => r.status),
  )
  assert.equal(status, 401)
})

test('Bob logs in: a viewer, not an analyst', async () => {
  const groups = await logIn('bob')
  assert.equal(await text('#session-username'), 'bob@globex.com')
  assert.ok(groups.includes('embed_viewers'), `groups: ${groups.join(', ')}`)
  assert.ok(!groups.includes('analysts'), `groups: ${groups.join(', ')}`)
  const token = await fetchToken('#get-token', 1)
  assert.equal(token.username, 'bob@globex.com')
  assert.notEqual(token.token, aliceToken)
})

test('a BFF error shows its code, message and request id', async () => {
  await context.clearCookies() // the session is gone, as when it has expired
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/ts/auth/token'),
    page.click('#get-token'),
  ])
  assert.equal(response.status(), 401)
  await page.locator('#error').waitFor()
  assert.equal(await text('#error-code'), 'UNAUTHENTICATED')
  assert.notEqual(await text('#error-message'), '')
  assert.equal(await text('#error-request-id'), response.headers()['x-request-id'])
  await page.locator('#session').waitFor({ state: 'hidden' })
})

test('no console errors, CSP violations, failed or off-origin requests', async () => {
  assert.deepEqual(await unexpectedProblems(['/ts/session', '/ts/auth/token']), [])
  assert.deepEqual(failed, [])
  assert.deepEqual(offOrigin, [])
})

test('SIGTERM stops the BFF and its simulator cleanly', { timeout: 30_000 }, async () => {
  await browser?.close()
  browser = undefined
  assert.equal(await stopDemoBff(demo), 0)
})
