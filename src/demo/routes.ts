/**
 * The demo identity provider and the demo page. The IdP signs app JWTs for the demo users, the
 * way a real app's login would; the page (bundled by `npm run build` into dist/front-end/demo)
 * then uses them exactly as an embedding app would, through the real Visual Embed SDK and REST
 * SDK. The page's responses carry their own Content-Security-Policy: helmet's forbids frames,
 * and the page frames the ThoughtSpot host (here the simulator) and calls it from the browser.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import express, { type Request, type Response, type Router } from 'express'
import { SignJWT } from 'jose'
import { BffError } from '../errors.js'
import { exactRouter } from '../http/routing.js'
import { CATALOGUE } from '../simulator/server.js'
import { DEMO_AUDIENCE, DEMO_ISSUER, DEMO_USERS, demoUser } from './users.js'

/** What the demo page needs to know, served as GET /demo/config. */
export interface DemoPageOptions {
  /** Base URL of ThoughtSpot (the simulator in demo mode), as `init({ thoughtSpotHost })` takes. */
  thoughtSpotHost: string
  /** Base URL of the BFF; '' when the page is served by the BFF itself (same origin). */
  bffUrl: string
}

/** The repository root: the nearest folder above this file that holds package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}

/** The built demo page (`npm run build`). */
export const DEMO_PAGE_DIR = join(packageRoot(), 'dist', 'front-end', 'demo')

const LIVEBOARD = CATALOGUE.find((item) => item.name === 'Sales Overview')
const WORKSHEET = CATALOGUE.find((item) => item.name === 'Retail Sales')

/** POST /demo/idp/login `{ user }` → `{ jwt }`: the app JWT a real login would produce. */
export function demoIdpRoutes(idpSecret: string): Router {
  const key = new TextEncoder().encode(idpSecret)
  const router = exactRouter()
  router.post(
    '/demo/idp/login',
    express.json({ limit: '1kb' }),
    async function demoLogin(req, res) {
      const user = demoUser((req.body as { user?: unknown } | undefined)?.user)
      if (!user) {
        throw new BffError(
          'BAD_REQUEST',
          `Pick a demo user: ${DEMO_USERS.map((u) => u.id).join(', ')}.`,
        )
      }
      const { sub, ...claims } = user.claims
      const jwt = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(sub)
        .setIssuer(DEMO_ISSUER)
        .setAudience(DEMO_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(key)
      res.setHeader('Cache-Control', 'no-store')
      res.json({ jwt })
    },
  )
  return router
}

/**
 * The page's policy: its own scripts and styles only; frames from ThoughtSpot only; calls to
 * itself, ThoughtSpot and the BFF only. Nothing from a CDN, no inline code.
 */
export function demoPagePolicy(options: DemoPageOptions): string {
  const ts = new URL(options.thoughtSpotHost).origin
  const bff = options.bffUrl === '' ? '' : ` ${new URL(options.bffUrl).origin}`
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${ts}${bff}`,
    `frame-src ${ts}`,
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
}

/** The page's config: where ThoughtSpot and the BFF are, which objects, which users. */
export function demoConfig(options: DemoPageOptions) {
  return {
    thoughtSpotHost: options.thoughtSpotHost,
    bffUrl: options.bffUrl,
    liveboardId: LIVEBOARD?.id ?? '',
    worksheetId: WORKSHEET?.id ?? '',
    users: DEMO_USERS.map(({ id, label, story, claims }) => ({
      id,
      label,
      story,
      username: claims.sub,
    })),
  }
}

/** The built page, or a page that says how to build it. */
function servePage(options: DemoPageOptions): Router {
  const router = exactRouter()
  const policy = demoPagePolicy(options)
  const withPolicy = (res: Response): void => {
    res.setHeader('Content-Security-Policy', policy)
  }
  router.get('/demo/config', function demoPageConfig(_req: Request, res: Response) {
    res.setHeader('Cache-Control', 'no-store')
    res.json(demoConfig(options))
  })
  router.use(
    express.static(DEMO_PAGE_DIR, { index: 'index.html', maxAge: 0, setHeaders: withPolicy }),
  )
  router.get('/', function demoPageMissing(_req: Request, res: Response) {
    withPolicy(res)
    res
      .status(503)
      .type('text/plain')
      .send('The demo page is not built yet: run `npm run build` (npm start does it for you).\n')
  })
  return router
}

/** Everything demo mode mounts: the IdP, the page's config and the page. */
export function demoRoutes(idpSecret: string, options: DemoPageOptions): Router {
  const router = exactRouter()
  router.use(demoIdpRoutes(idpSecret))
  router.use(servePage(options))
  return router
}
