/**
 * `node src/main.ts` stopping (issue 9 §4) and serving its metrics, as a child process: on
 * SIGTERM it stops accepting connections, lets a slow in-flight request finish, closes Redis and
 * exits 0; a request still running at `server.shutdownTimeoutMs` is cut, and it still exits 0.
 * The slow request is held by the simulator's 'slow' fault and released by the test, so nothing
 * here depends on how fast the machine is.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import YAML from 'yaml'
import { startSimulator, type Simulator } from '../../src/simulator/server.js'
import {
  freePort,
  scrubbedEnv,
  spawnNode,
  stopAll,
  waitFor,
  type Child,
} from '../helpers/child-process.js'
import { signAppJwt, TEST_AUDIENCE, TEST_HS256_SECRET, TEST_ISSUER } from '../helpers/jwt.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'

const TIMEOUT_MS = 60_000
const SECRET_KEY = 'shutdown-test-ts-secret-0d1e2f3a4b5c'

let dir: string
let simulator: Simulator
let redis: TestRedis

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsbff-shutdown-'))
  simulator = await startSimulator({
    secretKey: SECRET_KEY,
    groups: ['embed_viewers', 'analysts', 'executives'],
    orgs: [42],
    quiet: true,
  })
  redis = await startRedis()
})
after(async () => {
  await stopAll()
  simulator.state.releaseSlowCalls()
  await simulator.close()
  await redis.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Starts the BFF as an operator does, with `server` settings in its config file. */
async function startBff(
  server: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<{ bff: Child; url: string }> {
  const port = await freePort()
  const configFile = join(dir, `config-${port}.yaml`)
  writeFileSync(
    configFile,
    YAML.stringify({
      server,
      proxy: { allow: [{ method: 'POST', path: '/api/rest/2.0/searchdata' }] },
    }),
  )
  const bff = spawnNode(
    'src/main.ts',
    scrubbedEnv({
      NODE_ENV: 'production',
      PORT: String(port),
      BFF_CONFIG: configFile,
      TS_HOST: simulator.url,
      TS_SECRET_KEY: SECRET_KEY,
      SESSION_SECRET: 'shutdown-test-session-secret-5f6e7d8c9b0a',
      IDENTITY_HS256_SECRET: TEST_HS256_SECRET,
      IDENTITY_ISSUER: TEST_ISSUER,
      IDENTITY_AUDIENCE: TEST_AUDIENCE,
      ...env,
    }),
  )
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
    timeoutMs: TIMEOUT_MS,
    what: 'the BFF is ready',
    child: bff,
  })
  return { bff, url }
}

/** True when a new TCP connection to `url` is refused: the listener is closed. */
function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'))
  })
}

/** A proxied call the simulator holds until the test releases it; settles to status or 'cut'. */
async function heldCall(url: string): Promise<{ call: Promise<number | 'cut'> }> {
  const jwt = await signAppJwt({ sub: 'slow-user@acme.com' }, { now: Date.now })
  simulator.state.setFault({ mode: 'slow', delayMs: 600_000, paths: /searchdata$/, times: 1 })
  const call = fetch(`${url}/ts/api/rest/2.0/searchdata`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${jwt}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ query_string: '[sales]', logical_table_identifier: 'x' }),
  }).then(
    async (response) => {
      await response.text()
      return response.status
    },
    () => 'cut' as const,
  )
  await waitFor(() => simulator.state.slowCalls.size === 1, {
    timeoutMs: TIMEOUT_MS,
    what: 'the call is in flight upstream',
  })
  // Wrapped: an async function returning the promise itself would wait for it.
  return { call }
}

const events = (bff: Child): Record<string, unknown>[] =>
  bff
    .output()
    .stdout.split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)

describe('SIGTERM', () => {
  it('stops accepting, finishes the in-flight request, closes Redis and exits 0', async () => {
    const { bff, url } = await startBff({ shutdownTimeoutMs: TIMEOUT_MS }, { REDIS_URL: redis.url })
    const { call } = await heldCall(url)
    bff.child.kill('SIGTERM')
    await waitFor(() => refusesConnections(url), {
      timeoutMs: TIMEOUT_MS,
      what: 'new connections are refused',
      child: bff,
    })
    assert.equal(simulator.state.releaseSlowCalls(), 1, 'the call was still in flight')
    assert.equal(await call, 200, bff.transcript())
    assert.equal(await bff.exited, 0, bff.transcript())
    const stopping = events(bff).find((line) => line.event === 'server.stopping')
    assert.equal(stopping?.inFlight, 1)
    assert.equal(stopping?.timeoutMs, TIMEOUT_MS)
    assert.ok(events(bff).some((line) => line.event === 'server.stopped'))
    assert.equal(
      events(bff).some((line) => line.event === 'server.stop_forced'),
      false,
    )
  })

  it('cuts a request still running at server.shutdownTimeoutMs, and exits 0', async () => {
    const { bff, url } = await startBff({ shutdownTimeoutMs: 200 })
    const { call } = await heldCall(url)
    bff.child.kill('SIGTERM')
    assert.equal(await call, 'cut')
    assert.equal(await bff.exited, 0, bff.transcript())
    const forced = events(bff).find((line) => line.event === 'server.stop_forced')
    assert.equal(forced?.cut, 1, bff.transcript())
    assert.equal(forced?.level, 'warn')
    simulator.state.releaseSlowCalls()
  })
})

describe('/metrics of the running process', () => {
  it('is on the main port by default, with Node’s process metrics', async () => {
    const { bff, url } = await startBff({})
    const text = await (await fetch(`${url}/metrics`)).text()
    for (const name of [
      'tsbff_process_cpu_user_seconds_total',
      'tsbff_process_resident_memory_bytes',
      'tsbff_nodejs_eventloop_lag_seconds',
      'tsbff_http_requests_total',
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name)
    }
    assert.equal(await bff.stop(TIMEOUT_MS), 0)
  })

  it('is only on server.metricsPort once that is set', async () => {
    const metricsPort = await freePort()
    const { bff, url } = await startBff({ metricsPort })
    const main = await fetch(`${url}/metrics`)
    assert.equal(main.status, 404)
    assert.equal(((await main.json()) as { error: { code: string } }).error.code, 'NOT_FOUND')
    const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
    assert.equal(own.status, 200)
    assert.match(await own.text(), /^# TYPE tsbff_process_cpu_user_seconds_total /m)
    assert.equal(await bff.stop(TIMEOUT_MS), 0)
  })
})
