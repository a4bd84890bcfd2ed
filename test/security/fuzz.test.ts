/**
 * The seeded fuzz: thousands of generated requests (methods, paths in every encoding, credentials
 * good, forged and stale, hostile headers, bodies that lie) against the real BFF and the
 * simulator, while the simulator takes turns at being down, slow, 401, 429, in maintenance, 500
 * and garbage. Then it checks what must never happen, over every answer and every call that
 * reached "ThoughtSpot":
 *
 * - no 500 of the BFF's own (an upstream 500 passed through, scrubbed, is ThoughtSpot's answer);
 * - the BFF's own errors in the SPEC §7 shape with the response's request id;
 * - the process alive and serving, no uncaught exception or unhandled rejection;
 * - every forwarded call allowed by the allowlist for its user's groups, none to a route that is
 *   always refused, and the BFF's own calls only to the routes it makes itself;
 * - no secret, JWT, JSESSIONID or token where it must not be (the stack's leak check, and the
 *   forged JWTs too).
 *
 * It runs four times: on the memory stores, minting through REST v1, with RS256 JWTs from a
 * JWKS, and through a real redis-server that hangs and is killed between batches. `FUZZ_SEED`
 * picks the requests (default fixed, so a run is repeatable; a failure prints the seed and the
 * failing cases), `FUZZ_RUNS` how many (5,000 in CI, 1,500 locally; the other three runs a
 * fifth as many each).
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { exportJWK } from 'jose'
import type { AllowRule } from '../../src/config/schema.js'
import type { FaultOptions, RecordedCall } from '../../src/simulator/server.js'
import { findLeaks } from '../helpers/leak-check.js'
import {
  hmacSignedJwt,
  signAppJwt,
  unsignedJwt,
  TEST_HS256_SECRET,
  type SignOptions,
} from '../helpers/jwt.js'
import { rawRequest, type RawResponse } from '../helpers/raw-request.js'
import { firstHeader, openRaw } from '../helpers/raw-socket.js'
import { waitFor } from '../helpers/child-process.js'
import type { TestClock } from '../helpers/clock.js'
import { startRedis, type TestRedis } from '../helpers/redis.js'
import { startStack, TEST_TS_SECRET, type Stack } from '../helpers/start.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20240806)
const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.CI ? 5000 : 1500))
/** The REST v1, JWKS and Redis runs: a fifth as many each (Redis outages slow requests), at least 300. */
const VARIANT_RUNS = Math.max(300, Math.floor(RUNS / 5))
/** How long the Redis run waits for /readyz after starting or restarting redis-server. */
const READY = { timeoutMs: 10_000, what: '/readyz answers 200' }
/** Redis keeps real time (TTLs); the BFF's clock must too. */
const REAL_CLOCK: TestClock = { now: Date.now, advance: () => undefined }
/** Requests in flight at once. */
const PARALLEL = 32
/** Every run goes through the simulator's faults this many times, whatever its size. */
const FAULT_ROUNDS = 2
const BODY_LIMIT = 64 * 1024

const ALLOW: AllowRule[] = [
  { method: 'GET', path: '/api/rest/2.0/auth/session/user' },
  { method: 'POST', path: '/api/rest/2.0/searchdata' },
  { method: '*', path: '/api/rest/2.0/metadata/**' },
  { method: 'POST', path: '/api/rest/2.0/report/liveboard', groups: ['analysts'] },
  // Broad on purpose: it covers v1's token route, which must stay refused all the same.
  { method: 'GET', path: '/callosum/v1/tspublic/v1/**' },
  { method: 'POST', path: '/callosum/v1/tspublic/v1/searchdata' },
]

/**
 * The test's own reading of what must never be forwarded and of what ALLOW admits, written apart
 * from src/proxy/allowlist.ts on purpose: checking the BFF with its own code would pass whatever
 * that code got wrong. Token-minting and trusted-auth routes, in any case, anywhere in the path.
 */
const ALWAYS_REFUSED = /\/auth(\.[^/]*)?\/(session(\.[^/]*)?\/)?(token|configure|search)([/.;]|$)/i
const ANY_METHOD = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

function allowedByRules(method: string, path: string, groups: readonly string[]): boolean {
  return ALLOW.some((rule) => {
    const methods =
      rule.method === '*' ? ANY_METHOD : rule.method === 'GET' ? ['GET', 'HEAD'] : [rule.method]
    if (!methods.includes(method)) return false
    if (rule.groups && !rule.groups.some((group) => groups.includes(group))) return false
    if (rule.path.endsWith('/**')) {
      const base = rule.path.slice(0, -2)
      return path.startsWith(base) && path.length > base.length
    }
    return path === rule.path
  })
}

/** Where the BFF itself calls ThoughtSpot (mint, revoke, v1 held sessions), never for a browser. */
const OWN_CALLS = new Set([
  '/api/rest/2.0/auth/token/full',
  '/api/rest/2.0/auth/token/object',
  '/api/rest/2.0/auth/token/custom',
  '/api/rest/2.0/auth/token/revoke',
  '/callosum/v1/tspublic/v1/session/auth/token',
  '/callosum/v1/tspublic/v1/session/login/token',
  '/callosum/v1/tspublic/v1/session/logout',
])
/** The user agent of the BFF's own calls (src/upstream/fetch.ts); fuzz requests send another. */
const OWN_AGENT = 'thoughtspot-bff'
const FUZZ_AGENT = 'tsbff-fuzz/1'

// ---- what to send ----

type Credential =
  | 'none'
  | 'alice'
  | 'analyst'
  | 'suspended'
  | 'globex'
  | 'cookie'
  | 'stale-cookie'
  | 'expired'
  | 'wrong-audience'
  | 'alg-none'
  | 'wrong-key'
  | 'other-kid'
  | 'garbage'

type RawKind =
  | 'short-body'
  | 'huge-length'
  | 'header-injection'
  | 'absolute-form'
  | 'bad-chunk'
  | 'two-lengths'
  | 'length-and-chunked'

interface FuzzCase {
  method: string
  path: string
  query: string
  credential: Credential
  headers: [string, string][]
  body: { type: string; bytes: string } | null
  /** Sent over a raw socket in this shape, instead of through an HTTP client. */
  raw: RawKind | null
}

const SEGMENTS = [
  'api',
  'rest',
  '2.0',
  'callosum',
  'v1',
  'tspublic',
  'auth',
  'token',
  'full',
  'object',
  'session',
  'user',
  'info',
  'login',
  'searchdata',
  'metadata',
  'search',
  'report',
  'liveboard',
  'configure',
  'TOKEN',
  'Token.json',
  'token;jsessionid=x',
  '..',
  '.',
  '',
  '%2e%2e',
  '%2E',
  '%2f',
  '%2F..%2F',
  '%252e%252e',
  '%00',
  '%5c',
  '\\..\\',
  '%u002e',
  '%c0%ae',
  '%e2%80%8b',
  'a%20b',
  '~',
  '*',
]
const PREFIXES = [
  '/ts/api/rest/2.0/',
  '/ts/api/rest/2.0/auth/',
  '/ts/api/rest/2.0/metadata/',
  '/ts/callosum/v1/',
  '/ts/callosum/v1/tspublic/v1/',
  '/ts/callosum/v1/tspublic/v1/session/',
  '/ts/',
  '/ts/auth/',
  '/',
  '//ts/api/rest/2.0/',
  '/ts//api/rest/2.0/',
  '/TS/api/rest/2.0/',
]
const EXACT_PATHS = [
  '/ts/auth/token',
  '/ts/session',
  '/ts/api/rest/2.0/searchdata',
  '/ts/api/rest/2.0/auth/session/user',
  '/ts/api/rest/2.0/metadata/search',
  '/ts/api/rest/2.0/report/liveboard',
  '/ts/api/rest/2.0/auth/token/full',
  '/ts/callosum/v1/tspublic/v1/session/info',
  '/ts/callosum/v1/tspublic/v1/session/auth/token',
  '/ts/callosum/v1/tspublic/v1/tspublic/v1/session/auth/token',
  '/healthz',
  '/readyz',
  '/metrics',
]

/** Any text, with whatever is not plain printable ASCII percent-encoded so it can go on the wire. */
const wireText = fc
  .string({ unit: 'binary', maxLength: 12 })
  .map((text) =>
    [...Buffer.from(text, 'utf8')]
      .map((byte) =>
        byte > 0x20 && byte < 0x7f && byte !== 0x3f && byte !== 0x23
          ? String.fromCharCode(byte)
          : `%${byte.toString(16).padStart(2, '0')}`,
      )
      .join(''),
  )

const pathArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EXACT_PATHS) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...PREFIXES),
        fc.array(fc.oneof(fc.constantFrom(...SEGMENTS), wireText), { maxLength: 6 }),
        fc.boolean(),
      )
      .map(([prefix, segments, slash]) => `${prefix}${segments.join('/')}${slash ? '/' : ''}`),
  },
)

const queryArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.constantFrom('objectId', 'fresh', 'orgId', 'username', 'a', 'objectId[]', '__proto__'),
          fc.oneof(fc.constantFrom('true', 'x', '', '1', 'lb-1', '%00', '..%2f'), wireText),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((pairs) => `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}`),
  },
)

const headerArb = fc.oneof(
  fc.constantFrom<[string, string]>(
    ['Origin', 'https://evil.example'],
    ['Origin', 'null'],
    ['X-Forwarded-For', '1.2.3.4, 5.6.7.8'],
    ['X-Forwarded-For', 'not-an-ip'],
    ['X-Forwarded-Proto', 'https'],
    ['X-Forwarded-Proto', 'gopher'],
    ['X-Forwarded-Host', 'evil.example'],
    ['Accept', 'application/json'],
    ['Accept', 'text/plain'],
    ['Accept', '*/*;q=0.1, application/json'],
    ['Accept-Encoding', 'gzip, br'],
    ['Cache-Control', 'no-cache'],
    ['X-ThoughtSpot-Client', 'ThoughtSpot-ts-client'],
    ['X-ThoughtSpot-Orgs', '42'],
    ['X-Requested-By', 'ThoughtSpot'],
    ['Cookie', 'JSESSIONID=forged-session-id-0123456789'],
    ['Cookie', '__Host-tsbff.sid=s%3Aforged.forged'],
    ['Cookie', 'tsbff.sid=s%3Aold-cookie-name'],
    ['X-Request-Id', 'x'.repeat(200)],
    ['X-Request-Id', 'bad id with spaces'],
    ['Authorization', 'Basic YWRtaW46YWRtaW4='],
    ['Content-Encoding', 'gzip'],
    ['Expect', '100-continue'],
    ['Range', 'bytes=0-10'],
    ['X-CSRF', '0'],
    ['X-CSRF', '1'],
    ['Host', 'evil.example'],
  ),
  fc
    .tuple(
      fc.constantFrom('X-Fuzz', 'X-ThoughtSpot-Anything', 'Forwarded', 'X-Real-IP', 'Via'),
      wireText,
    )
    .map(([name, value]) => [name, value] as [string, string]),
)

const bodyArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  {
    weight: 4,
    arbitrary: fc
      .jsonValue({ maxDepth: 3 })
      .map((value) => ({ type: 'application/json', bytes: JSON.stringify(value) ?? 'null' })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { type: 'application/json', bytes: '{"a":' },
      { type: 'application/json', bytes: '{"__proto__":{"admin":true}}' },
      { type: 'application/json', bytes: `{"x":"${'y'.repeat(BODY_LIMIT + 10)}"}` },
      { type: 'application/x-www-form-urlencoded', bytes: 'a=1&b=%zz&secret_key=x' },
      { type: 'text/plain', bytes: 'plain words' },
      { type: 'application/octet-stream', bytes: '\u0000\u00ff\u00fe' },
      { type: 'application/json; charset=utf-16', bytes: '{}' },
    ),
  },
)

const wildArb: fc.Arbitrary<FuzzCase> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'),
  path: pathArb,
  query: queryArb,
  credential: fc.constantFrom<Credential>(
    'none',
    'alice',
    'alice',
    'analyst',
    'suspended',
    'globex',
    'cookie',
    'cookie',
    'stale-cookie',
    'expired',
    'wrong-audience',
    'alg-none',
    'wrong-key',
    'other-kid',
    'garbage',
  ),
  headers: fc.array(headerArb, { maxLength: 4 }),
  body: bodyArb,
  raw: fc.oneof(
    { weight: 40, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<RawKind>(
        'short-body',
        'huge-length',
        'header-injection',
        'absolute-form',
        'bad-chunk',
        'two-lengths',
        'length-and-chunked',
      ),
    },
  ),
})

/**
 * Calls an embedding page really makes (allowed routes, good credentials, JSON bodies), with a
 * hostile header or query mixed in: without them the wild cases rarely get past the allowlist,
 * and what reaches ThoughtSpot, and what comes back from it, is the point.
 */
const plausibleArb: fc.Arbitrary<FuzzCase> = fc
  .record({
    route: fc.constantFrom<[string, string]>(
      ['POST', '/ts/api/rest/2.0/searchdata'],
      ['GET', '/ts/api/rest/2.0/auth/session/user'],
      ['POST', '/ts/api/rest/2.0/metadata/search'],
      ['GET', '/ts/api/rest/2.0/metadata/liveboard'],
      ['POST', '/ts/api/rest/2.0/report/liveboard'],
      ['GET', '/ts/callosum/v1/tspublic/v1/session/info'],
      ['POST', '/ts/callosum/v1/tspublic/v1/searchdata'],
      ['GET', '/ts/auth/token'],
      ['POST', '/ts/session'],
      ['GET', '/ts/session'],
      ['DELETE', '/ts/session'],
      // The routes no allowlist opens, the v1 one under a broad rule that covers it.
      ['GET', '/ts/callosum/v1/tspublic/v1/session/auth/token'],
      ['GET', '/ts/callosum/v1/tspublic/v1/tspublic/v1/session/auth/token'],
      ['POST', '/ts/api/rest/2.0/auth/token/full'],
      ['GET', '/ts/api/rest/2.0/metadata/auth/token'],
    ),
    query: queryArb,
    credential: fc.constantFrom<Credential>('alice', 'analyst', 'globex', 'cookie', 'suspended'),
    headers: fc.array(headerArb, { maxLength: 1 }),
    body: bodyArb,
  })
  .map(({ route: [method, path], ...rest }) => ({ method, path, ...rest, raw: null }))

const caseArb: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 2, arbitrary: plausibleArb },
  { weight: 3, arbitrary: wildArb },
)

/** Faults the simulator takes turns at; null: ThoughtSpot is fine for a while. */
const FAULTS: (FaultOptions | null)[] = [
  null,
  { mode: 'down', times: 20 },
  { mode: 'slow', delayMs: 150, times: 30 },
  { mode: 'unauthorized', times: 15 },
  { mode: 'rateLimited', retryAfterSeconds: 1, times: 15 },
  { mode: 'maintenance', times: 15 },
  { mode: 'error', times: 15 },
  { mode: 'garbage', times: 40 },
  { mode: 'garbage', paths: /auth\/token/, times: 10 },
  null,
]

// ---- the run ----

/** The stack under fuzz: each describe starts its own and closes it. */
let stack: Stack
/** How the fuzz's app JWTs are signed: the stack's HS256 secret, or the JWKS run's RSA key. */
let signing: Partial<SignOptions> = {}

/** An app JWT the stack accepts (and its leak check looks for). */
function jwt(claims: Record<string, unknown>, extra: Partial<SignOptions> = {}): Promise<string> {
  return stack.jwt(claims, { ...signing, ...extra })
}

/** Logs in with such a JWT; the Cookie header value of the new session. */
async function login(claims: Record<string, unknown>): Promise<string> {
  const response = await stack.request
    .post('/ts/session')
    .set('Authorization', `Bearer ${await jwt(claims)}`)
    .set('X-Forwarded-Proto', 'https')
  const setCookie = response.headers['set-cookie'] as unknown as string[] | undefined
  const cookie = setCookie?.[0]?.split(';')[0]
  if (response.status !== 200 || !cookie) throw new Error(`login failed: ${response.status}`)
  return cookie
}

/** RS256 with a `kid` no key set holds: refused, and what makes a JWKS source look again. */
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
function otherKidJwt(now: () => number): Promise<string> {
  return signAppJwt({ sub: 'ceo@acme.com' }, { now, key: stranger.privateKey, kid: 'rotated-away' })
}
const uncaught: unknown[] = []
const onUncaught = (err: unknown): void => void uncaught.push(err)
const FUZZ_CONFIG = {
  server: { bodyLimit: BODY_LIMIT },
  thoughtspot: { timeoutMs: 2000 },
  proxy: { allow: ALLOW },
}

before(() => {
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
})

after(() => {
  process.off('uncaughtException', onUncaught)
  process.off('unhandledRejection', onUncaught)
})

interface Outcome {
  fuzzCase: FuzzCase
  index: number
  /** 0: no answer (the connection was closed or held without one). */
  status: number
  requestId: string | undefined
  contentType: string | undefined
  body: string
}

describe('seeded fuzz', () => {
  before(async () => {
    stack = await startStack({ config: FUZZ_CONFIG })
  })
  after(() => stack.close())

  it('survives the seeded fuzz: no 500, no exit, nothing off the allowlist forwarded, no secret leaked', () =>
    runFuzz('memory', RUNS))
})

describe('seeded fuzz with REST v1 trusted auth', () => {
  before(async () => {
    stack = await startStack({ config: FUZZ_CONFIG, env: { TS_AUTH_API: 'v1' } })
  })
  after(() => stack.close())

  it('survives the seeded fuzz minting through REST v1 (held sessions): no 500, no exit, nothing off the allowlist forwarded, no secret leaked', () =>
    runFuzz('REST v1', VARIANT_RUNS))
})

describe('seeded fuzz with a JWKS identity provider', () => {
  // RS256 app JWTs verified against a JWKS served on loopback; the JWTs with an unknown kid make
  // the BFF look again (within jose's cooldown). The identity provider failing is the subject of
  // test/integration/jwks*.test.ts: jose's 30 s cooldown keeps a short run from refetching.
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
  let idp: Server
  let fetches = 0
  before(async () => {
    const jwk = { ...(await exportJWK(signingKey.publicKey)), alg: 'RS256', use: 'sig' }
    idp = createServer((_req, res) => {
      fetches++
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve))
    const address = idp.address()
    const port = typeof address === 'object' && address ? address.port : 0
    signing = { key: signingKey.privateKey, alg: 'RS256' }
    stack = await startStack({
      config: FUZZ_CONFIG,
      env: { IDENTITY_HS256_SECRET: '', IDENTITY_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` },
    })
  })
  after(async () => {
    signing = {}
    await stack.close()
    await new Promise((resolve) => idp.close(resolve))
  })

  it('survives the seeded fuzz with RS256 app JWTs from a JWKS: no 500, no exit, nothing off the allowlist forwarded, no secret leaked', async () => {
    await runFuzz('JWKS', VARIANT_RUNS)
    assert.ok(fetches >= 1, 'the key set was fetched')
  })
})

describe('seeded fuzz with Redis', () => {
  let redis: TestRedis
  before(async () => {
    redis = await startRedis()
    stack = await startStack({
      config: FUZZ_CONFIG,
      clock: REAL_CLOCK,
      env: { REDIS_URL: redis.url },
    })
    await waitFor(async () => (await stack.request.get('/readyz')).status === 200, READY)
  })
  after(async () => {
    await stack.close()
    await redis.stop()
  })

  it('survives the seeded fuzz while Redis hangs and vanishes: no 500, no exit, nothing off the allowlist forwarded, no secret leaked', () =>
    // Redis hangs (SIGSTOP) for one batch in eight, and is killed for one in twenty, then
    // started again, empty. Requests meanwhile must fail closed (503), never 500, never hang;
    // once it is back (readiness says so) they must work again.
    runFuzz('Redis', VARIANT_RUNS, async (start) => {
      const batch = Math.floor(start / PARALLEL)
      if (batch % 8 === 3) redis.pause()
      else if (batch % 8 === 4) redis.resume()
      else if (batch % 20 === 15) await redis.kill()
      else if (batch % 20 === 16) {
        await redis.restart()
        await waitFor(async () => (await stack.request.get('/readyz')).status === 200, READY)
      }
    }))
})

/**
 * Runs `runs` generated requests against `stack`, the simulator switching faults every
 * stretch ({@link FAULT_ROUNDS} times through {@link FAULTS}), `between` called before each batch (another outage to stage), then checks
 * every answer and every call that reached the simulator, and prints the counts.
 */
async function runFuzz(
  label: string,
  runs: number,
  between?: (start: number) => Promise<void>,
): Promise<void> {
  const now = stack.clock.now
  const credentials: Record<Exclude<Credential, 'none'>, Record<string, string>> = {
    alice: { Authorization: `Bearer ${await jwt({ sub: 'alice@acme.com' })}` },
    analyst: {
      Authorization: `Bearer ${await jwt({ sub: 'bob@acme.com', roles: ['analyst'] })}`,
    },
    suspended: {
      Authorization: `Bearer ${await jwt({ sub: 'carol@acme.com', status: 'suspended' })}`,
    },
    globex: {
      Authorization: `Bearer ${await jwt({ sub: 'dan@globex.com', email: 'dan@globex.com' })}`,
    },
    cookie: { Cookie: await login({ sub: 'erin@acme.com' }), 'X-CSRF': '1' },
    'stale-cookie': { Cookie: await loggedOutCookie(), 'X-CSRF': '1' },
    expired: {
      Authorization: `Bearer ${await jwt({ sub: 'alice@acme.com' }, { expiresIn: -120 })}`,
    },
    'wrong-audience': {
      Authorization: `Bearer ${await jwt({ sub: 'alice@acme.com' }, { audience: 'someone-else' })}`,
    },
    'alg-none': { Authorization: `Bearer ${unsignedJwt({ sub: 'ceo@acme.com' }, now)}` },
    'wrong-key': {
      Authorization: `Bearer ${hmacSignedJwt({ sub: 'ceo@acme.com' }, `${TEST_HS256_SECRET}x`, now)}`,
    },
    'other-kid': { Authorization: `Bearer ${await otherKidJwt(now)}` },
    garbage: { Authorization: 'Bearer not.a.jwt' },
  }
  const forged = [credentials['alg-none'], credentials['wrong-key'], credentials['other-kid']].map(
    (headers) => (headers.Authorization ?? '').slice('Bearer '.length),
  )

  const cases = fc.sample(caseArb, { seed: SEED, numRuns: runs })
  const outcomes: Outcome[] = []
  let faultsSwitched = 0
  // A whole number of batches per fault, so each switch lands on a batch boundary.
  const faultEvery =
    PARALLEL * Math.max(1, Math.floor(runs / (FAULTS.length * FAULT_ROUNDS * PARALLEL)))
  for (let start = 0; start < cases.length; start += PARALLEL) {
    if (start % faultEvery < PARALLEL) {
      const fault = FAULTS[Math.floor(start / faultEvery) % FAULTS.length] ?? null
      if (fault) {
        stack.simulator.state.setFault(fault)
        faultsSwitched++
      } else stack.simulator.state.clearFault()
    }
    await between?.(start)
    const batch = cases.slice(start, start + PARALLEL)
    // A generated logout ends the shared cookie's session: log in again so cookie cases still
    // reach the proxy (the logged-out cookie is what 'stale-cookie' is for).
    // (Another user each time: logins are rate limited per user.)
    if (cases.slice(start - PARALLEL, start).some(endsSession)) {
      const sub = `erin-${start}@acme.com`
      // A login during a store outage fails; the old cookie then stands in until the next.
      const cookie = await login({ sub }).catch(() => null)
      if (cookie) credentials.cookie = { Cookie: cookie, 'X-CSRF': '1' }
    }
    outcomes.push(
      ...(await Promise.all(
        batch.map((fuzzCase, offset) => send(fuzzCase, start + offset, credentials)),
      )),
    )
  }
  stack.simulator.state.clearFault()
  stack.simulator.state.releaseSlowCalls()

  // What reached ThoughtSpot, by the request id the BFF forwards with each call.
  const calls = stack.simulator.state.calls
  const byRequestId = new Map<string, RecordedCall[]>()
  for (const call of calls) {
    const id = call.headers['x-request-id']
    if (typeof id !== 'string') continue
    byRequestId.set(id, [...(byRequestId.get(id) ?? []), call])
  }
  const own = calls.filter((call) => call.headers['user-agent'] === OWN_AGENT)
  const forwarded = calls.filter((call) => call.headers['user-agent'] !== OWN_AGENT)

  const problems: string[] = []
  const report = (outcome: Outcome, what: string): void =>
    void problems.push(
      `case ${outcome.index} ${JSON.stringify(describeCase(outcome.fuzzCase))}: ${what}`,
    )

  for (const outcome of outcomes) {
    const upstream = outcome.requestId ? (byRequestId.get(outcome.requestId) ?? []) : []
    const passedThrough = upstream.some(
      (call) => call.headers['user-agent'] !== OWN_AGENT && call.status === outcome.status,
    )
    if (outcome.status === 500 && !passedThrough)
      report(outcome, `500 of the BFF's own: ${outcome.body.slice(0, 200)}`)
    if (outcome.body.includes('"INTERNAL"')) report(outcome, 'INTERNAL error code')
    if (outcome.status >= 400 && !passedThrough && outcome.fuzzCase.method !== 'HEAD') {
      const shape = errorShapeProblem(outcome)
      if (shape) report(outcome, shape)
    }
    if (outcome.status > 0 && !outcome.requestId) report(outcome, 'no x-request-id')
  }

  for (const call of forwarded) {
    const where = `forwarded ${call.method} ${call.path}`
    if (ALWAYS_REFUSED.test(call.path)) problems.push(`${where}: an always-refused route`)
    if (!allowedByRules(call.method, call.path, groupsOf(call)))
      problems.push(
        `${where}: not allowed by the rules for ${userOf(call) ?? 'no known user'} ` +
          `(request ${String(call.headers['x-request-id'])}, groups ${groupsOf(call).join(',')})`,
      )
    if (call.headers['user-agent'] !== FUZZ_AGENT)
      problems.push(`${where}: user agent ${String(call.headers['user-agent'])}`)
  }
  for (const call of own) {
    if (!OWN_CALLS.has(call.path))
      problems.push(`the BFF's own call went to ${call.method} ${call.path}`)
  }

  const health = await rawRequest(stack.url, 'GET', '/healthz')
  const leaks = [
    ...stack.leaks(),
    ...findLeaks(
      { secrets: [TEST_TS_SECRET], heldCredentials: forged, tokens: [] },
      stack.logs,
      stack.responses,
    ),
  ]

  const counts = new Map<string, number>()
  for (const outcome of outcomes) {
    const bucket = outcome.status === 0 ? 'no answer' : `${String(outcome.status).slice(0, 1)}xx`
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1)
  }
  console.log(
    `seeded fuzz (${label}): seed ${SEED}, ${outcomes.length} requests (${outcomes.filter((o) => o.fuzzCase.raw).length} raw); ` +
      ['2xx', '3xx', '4xx', '5xx', 'no answer']
        .map((b) => `${b} ${counts.get(b) ?? 0}`)
        .join(', ') +
      `; reached ThoughtSpot: ${forwarded.length} forwarded, ${own.length} the BFF's own; ` +
      `${faultsSwitched} faults switched on; ${problems.length} problems, ${leaks.length} leaks`,
  )

  // Which answers, by status and error code: shows what the run reached, and how far.
  const answers = new Map<string, number>()
  for (const outcome of outcomes) {
    const code = /"code":"([A-Z_]+)"/.exec(outcome.body)?.[1]
    const key = code ? `${outcome.status} ${code}` : String(outcome.status)
    answers.set(key, (answers.get(key) ?? 0) + 1)
  }
  const top = [...answers].sort((a, b) => b[1] - a[1]).slice(0, 12)
  console.log(`seeded fuzz (${label}) answers: ${top.map(([key, n]) => `${key} ×${n}`).join(', ')}`)
  assert.equal(outcomes.length, runs)
  assert.ok(forwarded.length > 0, 'some calls were forwarded: the fuzz reached the proxy')
  assert.ok(own.length > 0, 'some tokens were minted: the fuzz reached the mint')
  assert.ok(
    outcomes.some((o) => o.status === 200),
    'some requests succeeded',
  )
  assert.deepEqual(problems.slice(0, 15), [], `seed ${SEED}: ${problems.length} problems`)
  assert.deepEqual(leaks.slice(0, 15), [], `seed ${SEED}: leaks`)
  assert.deepEqual(uncaught, [], 'no uncaught exception or unhandled rejection')
  assert.equal(health.status, 200, 'the BFF still serves /healthz')
}

/** True when the case may have logged the shared cookie's session out. */
function endsSession(fuzzCase: FuzzCase): boolean {
  return (
    fuzzCase.credential === 'cookie' &&
    fuzzCase.method === 'DELETE' &&
    fuzzCase.path.toLowerCase().startsWith('/ts/session')
  )
}

/** A session cookie whose session has been logged out. */
async function loggedOutCookie(): Promise<string> {
  const cookie = await login({ sub: 'frank@acme.com' })
  const out = await stack.request
    .delete('/ts/session')
    .set('Cookie', cookie)
    .set('X-CSRF', '1')
    .set('X-Forwarded-Proto', 'https')
  assert.equal(out.status, 204)
  return cookie
}

/** The ThoughtSpot user whose credential (token or held session) a forwarded call carried. */
function userOf(call: RecordedCall): string | undefined {
  const state = stack.simulator.state
  const auth = call.headers.authorization
  const token = typeof auth === 'string' ? auth.replace(/^Bearer /, '') : ''
  const cookie = String(call.headers.cookie ?? '')
  const sessionId = /JSESSIONID=([^;]+)/.exec(cookie)?.[1] ?? ''
  const session = state.sessions.get(sessionId) ?? state.loggedOutSessions.get(sessionId)
  return state.tokens.get(token)?.username ?? session?.username
}

/** The groups of that user in ThoughtSpot. */
function groupsOf(call: RecordedCall): readonly string[] {
  const username = userOf(call)
  return (username && stack.simulator.state.users.get(username)?.groups) || []
}

function errorShapeProblem(outcome: Outcome): string | null {
  if (outcome.contentType?.split(';')[0] !== 'application/json')
    return `${outcome.status} as ${outcome.contentType ?? 'no content type'}: ${outcome.body.slice(0, 120)}`
  let body: unknown
  try {
    body = JSON.parse(outcome.body)
  } catch {
    return `${outcome.status} with a body that is not JSON`
  }
  const error = (body as { error?: Record<string, unknown> }).error
  // A 503 of /readyz adds `status` and `reason` for probes and dashboards beside `error`.
  const readiness = outcome.fuzzCase.path === '/readyz' && outcome.status === 503
  const expectedKeys = readiness ? 'error,reason,status' : 'error'
  if (
    !error ||
    Object.keys(body as object)
      .sort()
      .join() !== expectedKeys
  )
    return `${outcome.status}: not { error }`
  if (Object.keys(error).sort().join() !== 'code,message,requestId')
    return `${outcome.status}: error keys ${Object.keys(error).join()}`
  if (typeof error.code !== 'string' || typeof error.message !== 'string' || error.message === '')
    return `${outcome.status}: code or message missing`
  if (error.requestId !== outcome.requestId)
    return `${outcome.status}: requestId is not the response's`
  return null
}

function describeCase(fuzzCase: FuzzCase): Record<string, unknown> {
  return {
    ...fuzzCase,
    body: fuzzCase.body && { type: fuzzCase.body.type, bytes: fuzzCase.body.bytes.slice(0, 60) },
  }
}

async function send(
  fuzzCase: FuzzCase,
  index: number,
  credentials: Record<Exclude<Credential, 'none'>, Record<string, string>>,
): Promise<Outcome> {
  const requestId = `fuzz-${index}`
  const headers: Record<string, string> = {
    'user-agent': FUZZ_AGENT,
    'x-request-id': requestId,
    'x-forwarded-proto': 'https',
    ...(fuzzCase.credential === 'none' ? {} : credentials[fuzzCase.credential]),
  }
  for (const [name, value] of fuzzCase.headers) headers[name.toLowerCase()] = value
  if (fuzzCase.body) headers['content-type'] = fuzzCase.body.type
  const target = `${fuzzCase.path}${fuzzCase.query}`
  if (fuzzCase.raw) return sendRaw(fuzzCase, index, target, headers)
  let response: RawResponse
  try {
    response = await rawRequest(stack.url, fuzzCase.method, target, headers, fuzzCase.body?.bytes)
  } catch {
    return { fuzzCase, index, status: 0, requestId, contentType: undefined, body: '' }
  }
  const id = response.headers['x-request-id']
  const type = response.headers['content-type']
  return {
    fuzzCase,
    index,
    status: response.status,
    requestId: typeof id === 'string' ? id : undefined,
    contentType: typeof type === 'string' ? type : undefined,
    body: response.body.toString('utf8'),
  }
}

/** How long a raw exchange may take before the test gives up on an answer (not a failure). */
const RAW_WAIT_MS = 300

async function sendRaw(
  fuzzCase: FuzzCase,
  index: number,
  target: string,
  headers: Record<string, string>,
): Promise<Outcome> {
  const body = fuzzCase.body?.bytes ?? '{"a":1}'
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
  let head = `${fuzzCase.method} ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n`
  let rest = ''
  switch (fuzzCase.raw) {
    case 'short-body':
      head += `content-length: ${body.length + 100}\r\n`
      rest = body
      break
    case 'huge-length':
      head += `content-length: ${BODY_LIMIT * 1000}\r\n`
      rest = body
      break
    case 'header-injection':
      head += `x-injected: a\r\n\rset-cookie: planted=1\r\n`
      break
    case 'absolute-form':
      head = `${fuzzCase.method} http://127.0.0.1${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n`
      break
    case 'bad-chunk':
      head += 'transfer-encoding: chunked\r\n'
      rest = 'zz\r\nhello\r\n0\r\n\r\n'
      break
    case 'two-lengths':
      head += `content-length: ${body.length}\r\ncontent-length: ${body.length + 1}\r\n`
      rest = body
      break
    case 'length-and-chunked':
      head += `content-length: 4\r\ntransfer-encoding: chunked\r\n`
      rest = '4\r\nabcd\r\n0\r\n\r\n'
      break
    case null:
      break
  }
  const connection = await openRaw(stack.url)
  const wait = setTimeout(() => connection.close(), RAW_WAIT_MS)
  await connection.write(`${head}${lines.join('\r\n')}${lines.length ? '\r\n' : ''}\r\n${rest}`)
  const exchange = await connection.closed
  clearTimeout(wait)
  // An interim `100 Continue` comes first when the body was invited; the answer follows it.
  const text = exchange.text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '')
  const split = text.indexOf('\r\n\r\n')
  const header = (name: string): string | undefined => firstHeader(text, name)
  const length = Number(header('content-length') ?? NaN)
  const answered = split >= 0 ? text.slice(split + 4) : ''
  return {
    fuzzCase,
    index,
    status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0),
    requestId: header('x-request-id'),
    contentType: header('content-type'),
    body: Number.isInteger(length) ? answered.slice(0, length) : answered,
  }
}
