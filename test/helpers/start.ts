/**
 * startStack: the real BFF (loadConfig → createServices → createApp, exactly as main.ts wires it)
 * against a real ThoughtSpot simulator on 127.0.0.1, listening on a free loopback port. Config
 * and mapping are written to real files so the real loader reads them. `close()` stops it all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import request from 'supertest'
import YAML from 'yaml'
import { createApp } from '../../src/app.js'
import { listen } from '../../src/http/server.js'
import { loadConfig } from '../../src/config/load.js'
import { createLogger } from '../../src/observability/logger.js'
import type { Config } from '../../src/config/load.js'
import { createServices, type Services } from '../../src/services.js'
import { startSimulator, type Simulator } from '../../src/simulator/server.js'
import type { Stores } from '../../src/state/stores.js'
import { testClock, type TestClock } from './clock.js'
import { assertNoLeaks, findLeaks, recordResponses, type Credentials } from './leak-check.js'
import {
  signAppJwt,
  TEST_AUDIENCE,
  TEST_HS256_SECRET,
  TEST_ISSUER,
  type SignOptions,
} from './jwt.js'

export const TEST_TS_SECRET = 'simulated-trusted-auth-secret-key-5b7c'
export const TEST_SESSION_SECRET = 'test-session-secret-0123456789-abcdefghijklmnop'

export const DEFAULT_MAPPING = `
default:
  groups: [embed_viewers]
  orgId: 0
rules:
  - when: { claim: roles, includes: analyst }
    groups: [analysts]
  - when: { claim: email, endsWith: "@globex.com" }
    orgId: 42
  - when: { claim: status, equals: suspended }
    deny: true
  - when: { claim: roles, includes: viewer-only }
    accessLevel: REPORT_BOOK_VIEW
users:
  ceo@acme.com: { groups: [executives] }
`

export interface StackOptions {
  /** Config file tree, merged over the test defaults. */
  config?: Record<string, unknown>
  mapping?: string
  env?: Record<string, string>
  clock?: TestClock
  /** Groups that exist in the simulator. */
  groups?: string[]
  /** Shared state to use instead of what the config names (memory unless REDIS_URL is set). */
  stores?: (config: Config) => Stores
  /** A simulator to share (several replicas, one ThoughtSpot); it is not closed with the stack. */
  simulator?: Simulator
}

export interface Stack {
  url: string
  request: ReturnType<typeof request>
  simulator: Simulator
  services: Services
  clock: TestClock
  /** Every log line written, as raw JSON text. */
  logs: string[]
  /** Every response the BFF sent (header block and body), for the leak check. */
  responses: ReturnType<typeof recordResponses>
  /** What the leak check would find now; `close()` fails when it finds anything. */
  leaks(): ReturnType<typeof findLeaks>
  dir: string
  mappingFile: string
  jwt(claims: Record<string, unknown>, options?: Partial<SignOptions>): Promise<string>
  /** Logs in with a bearer JWT; returns the Cookie header value for later requests. */
  login(claims: Record<string, unknown>): Promise<string>
  /**
   * Stops everything, then runs the leak check over every log line and response. Only a test
   * of the leak check itself passes `{ leakCheck: false }`, after asserting what it found.
   */
  close(options?: { leakCheck?: boolean }): Promise<void>
}

function merge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    const current = out[key]
    out[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      current &&
      typeof current === 'object' &&
      !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value
  }
  return out
}

const TEST_CONFIG = {
  server: { trustProxy: true },
  rateLimits: { perIpPerMinute: 100_000, perUserPerMinute: 100_000, mintsPerUserPerMinute: 1000 },
  proxy: {
    allow: [
      { method: 'GET', path: '/api/rest/2.0/auth/session/user' },
      { method: 'POST', path: '/api/rest/2.0/searchdata' },
      { method: 'POST', path: '/api/rest/2.0/metadata/search' },
    ],
  },
}

/** A simulator as the stack starts one: the test secret key, the test groups, org 42. */
export function startTestSimulator(
  options: Pick<StackOptions, 'groups'> & { clock?: TestClock } = {},
): Promise<Simulator> {
  return startSimulator({
    secretKey: TEST_TS_SECRET,
    now: (options.clock ?? testClock()).now,
    groups: options.groups ?? ['embed_viewers', 'analysts', 'executives'],
    orgs: [42],
    quiet: true,
  })
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const clock = options.clock ?? testClock()
  const ownSimulator = options.simulator === undefined
  const simulator = options.simulator ?? (await startTestSimulator({ ...options, clock }))
  const dir = mkdtempSync(join(tmpdir(), 'tsbff-test-'))
  try {
    return await startBff(options, clock, simulator, dir, ownSimulator)
  } catch (err) {
    // A stack that fails to start (e.g. a config it must refuse) leaves nothing running.
    if (ownSimulator) await simulator.close()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

async function startBff(
  options: StackOptions,
  clock: TestClock,
  simulator: Simulator,
  dir: string,
  ownSimulator: boolean,
): Promise<Stack> {
  const configFile = join(dir, 'config.yaml')
  const mappingFile = join(dir, 'mapping.yaml')
  writeFileSync(configFile, YAML.stringify(merge(TEST_CONFIG, options.config ?? {})))
  writeFileSync(mappingFile, options.mapping ?? DEFAULT_MAPPING)
  const config = loadConfig({
    NODE_ENV: 'test',
    BFF_CONFIG: configFile,
    BFF_MAPPING: mappingFile,
    TS_HOST: simulator.url,
    TS_SECRET_KEY: TEST_TS_SECRET,
    SESSION_SECRET: TEST_SESSION_SECRET,
    IDENTITY_HS256_SECRET: TEST_HS256_SECRET,
    IDENTITY_ISSUER: TEST_ISSUER,
    IDENTITY_AUDIENCE: TEST_AUDIENCE,
    LOG_LEVEL: 'debug',
    ...options.env,
  })
  const logs: string[] = []
  const log = createLogger({
    level: config.logging.level,
    destination: { write: (line: string) => void logs.push(line) },
  })
  const services = createServices(config, {
    log,
    now: clock.now,
    ...(options.stores ? { stores: options.stores(config) } : {}),
  })
  const app = createApp(services)
  // The same listener as main.ts: its timeouts and header limits from the config.
  const server: Server = await listen(app, config.server, 0, '127.0.0.1')
  const responses = recordResponses(server)
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`

  const jwt = (
    claims: Record<string, unknown>,
    extra: Partial<SignOptions> = {},
  ): Promise<string> =>
    signAppJwt(claims, { now: clock.now, ...extra }).then((token) => {
      signedJwts.push(token)
      return token
    })
  const signedJwts: string[] = []
  const { secrets } = config
  const credentials = (): Credentials => ({
    secrets: [
      secrets.tsSecretKey,
      ...Object.values(secrets.orgSecretKeys),
      ...secrets.sessionSecrets,
      secrets.identityHs256Secret ?? '',
    ],
    heldCredentials: [
      ...signedJwts,
      ...simulator.state.sessions.keys(),
      ...simulator.state.loggedOutSessions.keys(),
    ],
    tokens: [...simulator.state.tokens.keys()],
  })
  const leaks = (): ReturnType<typeof findLeaks> => findLeaks(credentials(), logs, responses)

  return {
    url,
    request: request(url),
    simulator,
    services,
    clock,
    logs,
    responses,
    leaks,
    dir,
    mappingFile,
    jwt,
    async login(claims) {
      const response = await request(url)
        .post('/ts/session')
        .set('Authorization', `Bearer ${await jwt(claims)}`)
        .set('X-Forwarded-Proto', 'https')
      if (response.status !== 200)
        throw new Error(`login failed: ${response.status} ${response.text}`)
      const setCookie = response.headers['set-cookie'] as unknown as string[] | undefined
      const cookie = setCookie?.[0]?.split(';')[0]
      if (!cookie) throw new Error('login set no cookie')
      return cookie
    },
    async close({ leakCheck = true } = {}) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await services.close()
      // Read before a simulator of its own goes: its tokens and sessions are what to look for.
      const found = leakCheck ? leaks() : []
      if (ownSimulator) await simulator.close()
      rmSync(dir, { recursive: true, force: true })
      assertNoLeaks(found, 'this test stack')
    },
  }
}
