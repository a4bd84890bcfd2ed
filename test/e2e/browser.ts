/**
 * Real headless Chromium for the browser tests (Debian's /usr/bin/chromium through
 * playwright-core), with no request interception: every preflight, cookie and CSP decision is
 * the browser's own. `watch(page)` collects what must not happen unnoticed: console errors,
 * uncaught exceptions, CSP violations and failed requests.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { ROOT } from '../helpers/child-process.js'

/** Where the tests save their screenshots (gitignored). */
export const RESULTS = join(ROOT, 'test-results')

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

/** Records CSP violations before any page script runs (an init script is not subject to CSP). */
const CSP_RECORDER = `
  window.__cspViolations = []
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))
`

/** Launches Chromium; the caller closes it. */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(RESULTS, { recursive: true })
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
}

/** A fresh context (its own cookies) with the CSP recorder installed. */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  await context.addInitScript({ content: CSP_RECORDER })
  return context
}

/** One thing that went wrong in the page. */
export interface Problem {
  kind: 'console' | 'uncaught' | 'request'
  text: string
  url: string
}

/** What `watch` collected so far, and a way to read the page's CSP violations. */
export interface Watch {
  problems: Problem[]
  /** Every request URL the page (and its frames) made. */
  requests: string[]
  cspViolations(): Promise<string[]>
}

/** Starts collecting the page's problems and requests. */
export function watch(page: Page): Watch {
  const problems: Problem[] = []
  const requests: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') {
      problems.push({ kind: 'console', text: message.text(), url: message.location().url })
    }
  })
  page.on('pageerror', (err) => problems.push({ kind: 'uncaught', text: err.message, url: '' }))
  page.on('request', (request) => requests.push(request.url()))
  page.on('requestfailed', (request) => {
    problems.push({ kind: 'request', text: request.failure()?.errorText ?? '', url: request.url() })
  })
  return {
    problems,
    requests,
    cspViolations: async () => {
      const found: string[] = []
      for (const frame of page.frames()) {
        const list = await frame
          .evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations)
          .catch(() => undefined)
        found.push(...(list ?? []))
      }
      return found
    },
  }
}

/** Saves a screenshot of the page under test-results/. */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  await page.screenshot({ path: join(RESULTS, `${name}.png`), ...options })
}
