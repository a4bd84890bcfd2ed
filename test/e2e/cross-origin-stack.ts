/**
 * A cross-origin deployment on loopback, each part on its own origin, as an app that embeds
 * ThoughtSpot runs it:
 *   - the ThoughtSpot simulator, in this process, so tests read what it recorded;
 *   - the BFF as a child process configured only by its environment (TS_HOST, CORS_ORIGINS, …)
 *     and a config file, behind a small front that says `X-Forwarded-Proto: https` (the BFF's
 *     cookie is Secure outside demo mode; the front plays the TLS terminator);
 *   - the app's own server: the built demo page, its config (pointing at the BFF's origin) and
 *     the demo IdP, plus two test pages (/rest-sdk.html, /search-embed.html);
 *   - a stranger: one more origin, not in CORS_ORIGINS.
 * `close()` stops every server and the child.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import express from 'express'
import YAML from 'yaml'
import { demoRoutes } from '../../src/demo/routes.js'
import { DEMO_AUDIENCE, DEMO_ISSUER } from '../../src/demo/users.js'
import { startSimulator, type Simulator } from '../../src/simulator/server.js'
import { buildFrontEnd } from '../../scripts/build-front-end.js'
import {
  freePort,
  ROOT,
  scrubbedEnv,
  spawnNode,
  waitFor,
  type Child,
} from '../helpers/child-process.js'

const TS_SECRET = 'cross-origin-test-ts-secret-1c9e'
const IDP_SECRET = 'cross-origin-test-idp-secret-0123456789abcdef'
const SESSION_SECRET = 'cross-origin-test-session-secret-0123456789'
const READY_TIMEOUT_MS = 30_000

/** The running parts; URLs are origins without a trailing slash. */
export interface CrossOriginStack {
  simulator: Simulator
  /** The BFF as the browser sees it (through the front). */
  bffUrl: string
  /** The app's origin: demo page, /demo/config, /demo/idp/login, the test pages. */
  appUrl: string
  /** An origin that is not in CORS_ORIGINS. */
  strangerUrl: string
  bff: Child
  /** An app JWT for a demo user, from the demo IdP. */
  jwtFor(user: string): Promise<string>
  close(): Promise<void>
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`)
    })
  })
}

function stop(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

/** Forwards everything to the BFF unchanged, adding only what a TLS terminator adds. */
function front(bffPort: number) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: bffPort,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-proto': 'https' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
        answer.pipe(res)
      },
    )
    upstream.once('error', () => res.destroy())
    req.pipe(upstream)
  }
}

/** A test page's script, bundled from test/e2e/fixtures/<name>.ts. */
async function fixtureBundle(name: string): Promise<string> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [`test/e2e/fixtures/${name}.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'warning',
  })
  return result.outputFiles[0]?.text ?? ''
}

/** The shipped config/default.yaml, believing the front's X-Forwarded-Proto. */
function writeConfig(dir: string): string {
  const config = YAML.parse(readFileSync(join(ROOT, 'config/default.yaml'), 'utf8')) as {
    server: Record<string, unknown>
  }
  config.server.trustProxy = true
  const file = join(dir, 'bff.yaml')
  writeFileSync(file, YAML.stringify(config))
  return file
}

/**
 * The BFF as a child process on a free port, once it answers /readyz; another port when the
 * chosen one was taken meanwhile.
 */
async function startBff(env: Record<string, string>): Promise<{ bff: Child; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const bff = spawnNode('src/main.ts', scrubbedEnv({ ...env, PORT: String(port) }))
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
        timeoutMs: READY_TIMEOUT_MS,
        what: 'the BFF answers /readyz',
        child: bff,
      })
      return { bff, port }
    } catch (err) {
      await bff.stop()
      if (attempt >= 3 || !String(err).includes('EADDRINUSE')) throw err
    }
  }
}

/** Starts every part; on a failure it stops what it started. */
export async function startCrossOriginStack(): Promise<CrossOriginStack> {
  await buildFrontEnd()
  const fixtures = {
    'rest-sdk': await fixtureBundle('rest-sdk-client'),
    'search-embed': await fixtureBundle('search-embed-client'),
  }
  const app = createServer()
  const stranger = createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><title>stranger</title>')
  })
  const frontServer = createServer()
  const appUrl = await listen(app)
  const strangerUrl = await listen(stranger)
  const bffUrl = await listen(frontServer)
  const dir = mkdtempSync(join(tmpdir(), 'tsbff-e2e-'))
  const simulator = await startSimulator({
    secretKey: TS_SECRET,
    groups: ['embed_viewers', 'analysts', 'executives'],
    orgs: [42],
    embedOrigins: [appUrl],
    quiet: true,
  })
  let bff: Child
  let bffPort: number
  try {
    ;({ bff, port: bffPort } = await startBff({
      BFF_CONFIG: writeConfig(dir),
      TS_HOST: simulator.url,
      TS_SECRET_KEY: TS_SECRET,
      SESSION_SECRET,
      IDENTITY_HS256_SECRET: IDP_SECRET,
      IDENTITY_ISSUER: DEMO_ISSUER,
      IDENTITY_AUDIENCE: DEMO_AUDIENCE,
      CORS_ORIGINS: appUrl,
      LOG_LEVEL: 'warn',
    }))
  } catch (err) {
    await Promise.all([stop(app), stop(stranger), stop(frontServer), simulator.close()])
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  frontServer.on('request', front(bffPort))
  const page = express()
  for (const [name, script] of Object.entries(fixtures)) {
    page.get(`/${name}.js`, (_req, res) => res.type('text/javascript').send(script))
    page.get(`/${name}.html`, (_req, res) => {
      res
        .type('html')
        .send(
          `<!doctype html><title>${name}</title><div id="embed"></div>` +
            `<script type="module" src="/${name}.js"></script>`,
        )
    })
  }
  page.use(demoRoutes(IDP_SECRET, { thoughtSpotHost: simulator.url, bffUrl }))
  app.on('request', page)

  const close = async () => {
    await bff.stop()
    await Promise.all([stop(app), stop(stranger), stop(frontServer), simulator.close()])
    rmSync(dir, { recursive: true, force: true })
  }
  return {
    simulator,
    bffUrl,
    appUrl,
    strangerUrl,
    bff,
    async jwtFor(user) {
      const res = await fetch(`${appUrl}/demo/idp/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user }),
      })
      return ((await res.json()) as { jwt: string }).jwt
    },
    close,
  }
}
