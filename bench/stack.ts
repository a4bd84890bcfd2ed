/**
 * Starts the processes a run compares, each its own child on 127.0.0.1: the upstream, the two
 * baseline proxies, the real built BFF (`node dist/src/main.js`, production mode, logging at info
 * to a file) and redis-server. Secrets are random per run.
 */
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeBffFiles, type ConfigKind } from './bff-config.js'
import { freePort, spawnChild, waitUntil, type Child } from './children.js'
import { call, expectStatus } from './http.js'
import { jwtSigner, type Identity } from './jwt.js'
import type { UpstreamStats } from './upstream.js'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** A run's secrets, signer and temporary directory. */
export interface BenchContext {
  /** Temporary directory for config files and logs. */
  dir: string
  tsSecret: string
  sessionSecret: string
  identity: Identity
  sign: (sub: string) => Promise<string>
}

/** Fresh random secrets and a temporary directory for one run. */
export function createContext(): BenchContext {
  const identity: Identity = {
    secret: randomBytes(32).toString('hex'),
    issuer: 'https://idp.bench.example',
    audience: 'thoughtspot-bff-bench',
  }
  return {
    dir: mkdtempSync(join(tmpdir(), 'tsbff-bench-')),
    tsSecret: randomBytes(24).toString('hex'),
    sessionSecret: randomBytes(32).toString('hex'),
    identity,
    sign: jwtSigner(identity),
  }
}

/** A started server: its base URL and its process. */
export interface Target {
  name: string
  url: string
  child: Child
}

/** The started upstream and its control routes. */
export interface Upstream extends Target {
  stats(): Promise<UpstreamStats>
  reset(): Promise<void>
  /** Mints a token straight from the upstream, for the direct and baseline-proxy rows. */
  mint(username: string): Promise<string>
}

const tsChild = (script: string): string[] => ['--import', 'tsx', join(ROOT, 'bench', script)]

/** Starts bench/upstream.ts on the load CPU and waits until it answers. */
export async function startUpstream(ctx: BenchContext): Promise<Upstream> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawnChild('upstream', process.execPath, tsChild('upstream.ts'), {
    cwd: ROOT,
    core: 'load',
    env: { PORT: String(port), BENCH_TS_SECRET: ctx.tsSecret },
  })
  await waitUntil(child, async () => (await call(`${url}/__bench/stats`)).status === 200)
  return {
    name: 'upstream',
    url,
    child,
    async stats() {
      return JSON.parse((await expectStatus(200, `${url}/__bench/stats`)).body) as UpstreamStats
    },
    async reset() {
      await expectStatus(204, `${url}/__bench/reset`, { method: 'POST' })
    },
    async mint(username) {
      const reply = await expectStatus(200, `${url}/api/rest/2.0/auth/token/full`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, secret_key: ctx.tsSecret, validity_time_in_sec: 86_400 }),
      })
      return (JSON.parse(reply.body) as { token: string }).token
    },
  }
}

/** The bare node:http proxy or the naive express stack, in front of `upstream`. */
export async function startBaseline(
  ctx: BenchContext,
  which: 'bare' | 'naive',
  upstream: Upstream,
): Promise<Target> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawnChild(which, process.execPath, tsChild(`${which}-proxy.ts`), {
    cwd: ROOT,
    core: 'sut',
    env: { PORT: String(port), BENCH_UPSTREAM: upstream.url },
    stdoutFile: join(ctx.dir, `${which}.log`),
  })
  // Any answer proves it listens and reaches the upstream (which 404s a GET /).
  await waitUntil(child, async () => (await call(`${url}/`)).status === 404)
  return { name: which, url, child }
}

/** A started BFF. */
export interface Bff extends Target {
  /** Base URL of the BFF's /metrics listener, when asked for with `metrics: true`. */
  metricsUrl: string | null
  /** POST /ts/session with a bearer app JWT; returns the `name=value` for a Cookie header. */
  login(jwt: string): Promise<string>
}

/** Which config a BFF gets, and how it is started. */
export interface BffOptions {
  name: string
  kind: ConfigKind
  upstream: Upstream
  redisUrl?: string
  /** Serve /metrics on a port of its own (for the heap figures of the memory runs). */
  metrics?: boolean
  /** Extra node flags, e.g. `--cpu-prof` for the profile run. */
  nodeArgs?: string[]
}

/** Headers of a browser behind the TLS terminator (the session cookie is Secure). */
export const VIA_TLS = { 'x-forwarded-proto': 'https' }

/** Starts the built BFF on the CPU under test and waits for /healthz. */
export async function startBff(ctx: BenchContext, options: BffOptions): Promise<Bff> {
  const metricsPort = options.metrics ? await freePort() : null
  const files = writeBffFiles(ctx.dir, options.name, options.kind, metricsPort)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawnChild(
    options.name,
    process.execPath,
    [...(options.nodeArgs ?? []), join(ROOT, 'dist/src/main.js')],
    {
      cwd: ROOT,
      core: 'sut',
      stdoutFile: join(ctx.dir, `${options.name}.log`),
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        TS_HOST: options.upstream.url,
        TS_SECRET_KEY: ctx.tsSecret,
        SESSION_SECRET: ctx.sessionSecret,
        IDENTITY_HS256_SECRET: ctx.identity.secret,
        IDENTITY_ISSUER: ctx.identity.issuer,
        IDENTITY_AUDIENCE: ctx.identity.audience,
        BFF_CONFIG: files.config,
        BFF_MAPPING: files.mapping,
        LOG_LEVEL: 'info',
        ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
      },
    },
  )
  await waitUntil(child, async () => (await call(`${url}/healthz`)).status === 200)
  return {
    name: options.name,
    url,
    child,
    metricsUrl: metricsPort === null ? null : `http://127.0.0.1:${metricsPort}`,
    async login(jwt) {
      const reply = await expectStatus(200, `${url}/ts/session`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt}`, ...VIA_TLS },
      })
      const setCookie = reply.headers['set-cookie']?.[0]
      // The cookie's name is whatever the BFF sets; only its name=value pair is sent back.
      const pair = setCookie?.split(';')[0]
      if (!pair?.includes('=')) throw new Error(`${options.name}: login set no cookie`)
      return pair
    },
  }
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.setTimeout(1000)
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => {
      socket.destroy()
      resolve(data.toString().startsWith('+PONG'))
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/** A throw-away redis-server on loopback (no persistence), or why there is none. */
export async function startRedis(): Promise<{ url: string; child: Child } | { skipped: string }> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  } catch {
    return { skipped: 'redis-server is not installed' }
  }
  const port = await freePort()
  const child = spawnChild(
    'redis',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { core: 'load' },
  )
  await waitUntil(child, () => redisPing(port))
  return { url: `redis://127.0.0.1:${port}`, child }
}
