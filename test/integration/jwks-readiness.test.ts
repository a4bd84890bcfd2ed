/**
 * Readiness tells the truth about the identity provider (issue 9): with IDENTITY_JWKS_URL set,
 * /readyz is 503 naming the identity provider until its keys have been fetched once (fetched at
 * start, retried in the background), and stays ready after that even if a refresh fails. A JWKS
 * failure is logged as the identity provider's, with its URL and HTTP status — never blamed on
 * ThoughtSpot — and a key set that is not JSON is the provider's fault, not the token's.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { exportJWK, SignJWT, type RemoteJWKSet } from 'jose'
import { remoteJwksSource } from '../../src/identity/keys.js'
import { createLogger } from '../../src/observability/logger.js'
import { waitFor } from '../helpers/child-process.js'
import { TEST_AUDIENCE, TEST_ISSUER } from '../helpers/jwt.js'
import { startStack } from '../helpers/start.js'

const WAIT = { timeoutMs: 30_000 }
const signing = generateKeyPairSync('rsa', { modulusLength: 2048 })

/** What the identity provider answers at the moment. */
let mode: 'good' | '404' | 'not-json' | '500' = 'good'
let idp: Server
let jwksUrl: string

before(async () => {
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' }
  idp = createServer((_req, res) => {
    if (mode === '404') res.writeHead(404).end('not here')
    else if (mode === '500') res.writeHead(500).end('oops')
    else if (mode === 'not-json') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>')
    else
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] }))
  })
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve))
  const address = idp.address()
  jwksUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/jwks.json`
})
after(() => new Promise((resolve) => idp.close(resolve)))

const jwksEnv = () => ({ IDENTITY_HS256_SECRET: '', IDENTITY_JWKS_URL: jwksUrl })
/** The fields of a log line these tests read. */
interface LogLine {
  event?: string
  level: string
  msg: string
  url?: string
  status?: number
  problem?: string
  keys?: number
  err?: { type: string; message: string }
}
const parsed = (logs: readonly string[]): LogLine[] =>
  logs.map((line) => JSON.parse(line) as LogLine)

async function sign(now: number): Promise<string> {
  const seconds = Math.floor(now / 1000)
  return new SignJWT({ sub: 'jwks-user@acme.com' })
    .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
    .setIssuer(TEST_ISSUER)
    .setAudience(TEST_AUDIENCE)
    .setExpirationTime(seconds + 600)
    .sign(signing.privateKey)
}

describe('/readyz with a JWKS key source', () => {
  it('is 503 naming the identity provider until the keys are fetched, then 200', async () => {
    mode = '404'
    const stack = await startStack({ env: jwksEnv() })
    try {
      await waitFor(() => parsed(stack.logs).some((l) => l.event === 'identity.jwks_failed'), {
        ...WAIT,
        what: 'the first JWKS fetch has failed',
      })
      const notReady = await stack.request.get('/readyz')
      assert.equal(notReady.status, 503)
      assert.equal(notReady.body.error.code, 'NOT_READY')
      assert.match(
        notReady.body.reason,
        /^identity provider \(JWKS http:\/\/127\.0\.0\.1:\d+\/jwks\.json\)/,
      )
      assert.match(notReady.body.reason, /no signing keys fetched yet: HTTP 404/)

      const failure = parsed(stack.logs).find((l) => l.event === 'identity.jwks_failed')!
      assert.equal(failure.level, 'warn')
      assert.equal(failure.url, jwksUrl)
      assert.equal(failure.status, 404)
      assert.match(
        failure.msg,
        /^the identity provider's JWKS at http:\S+ cannot be used: HTTP 404;/,
      )
      assert.doesNotMatch(failure.msg, /ThoughtSpot/)

      mode = 'good'
      await waitFor(async () => (await stack.request.get('/readyz')).status === 200, {
        ...WAIT,
        what: '/readyz answers 200 once the background retry fetched the keys',
      })
      assert.ok(parsed(stack.logs).some((l) => l.event === 'identity.jwks_fetched' && l.keys === 1))
      const login = await stack.request
        .get('/ts/session')
        .set('Authorization', `Bearer ${await sign(stack.clock.now())}`)
      assert.equal(login.status, 200, login.text)
      const metrics = await stack.request.get('/metrics')
      assert.match(metrics.text, /^tsbff_identity_key_fetches_total\{outcome="failed"\} [1-9]/m)
      assert.match(metrics.text, /^tsbff_identity_key_fetches_total\{outcome="ok"\} [1-9]/m)
    } finally {
      await stack.close()
    }
  })

  it('a JWKS that is not JSON: logins are 502 from the identity provider, never INVALID_TOKEN', async () => {
    mode = 'not-json'
    const stack = await startStack({ env: jwksEnv() })
    try {
      const response = await stack.request
        .get('/ts/session')
        .set('Authorization', `Bearer ${await sign(stack.clock.now())}`)
      assert.equal(response.status, 502)
      assert.equal(response.body.error.code, 'UPSTREAM_UNAVAILABLE')
      assert.match(response.body.error.message, /identity provider/)
      assert.equal(stack.simulator.state.calls.length, 0, 'ThoughtSpot is never asked')
      const lines = parsed(stack.logs)
      assert.ok(
        lines.some(
          (l) => l.event === 'identity.jwks_failed' && l.problem === 'the answer is not JSON',
        ),
      )
      const failed = lines.find((l) => l.event === 'request.failed')!
      assert.match(failed.msg, /identity provider/)
      assert.notEqual(failed.err?.type, 'Object', 'the cause keeps its type')
      const ready = await stack.request.get('/readyz')
      assert.equal(ready.status, 503)
      assert.match(ready.body.reason, /identity provider .*the answer is not JSON/)
    } finally {
      await stack.close()
    }
  })
})

describe('after the first fetch', () => {
  it('stays ready when a refresh fails, and says the old keys stay in use', async () => {
    mode = 'good'
    const lines: string[] = []
    const log = createLogger({ level: 'debug', destination: { write: (l) => void lines.push(l) } })
    const source = remoteJwksSource(jwksUrl, { log })
    try {
      const readiness = source.readiness!
      await waitFor(() => readiness.check().then(() => true), { ...WAIT, what: 'keys fetched' })
      mode = '500'
      await assert.rejects((source.key as RemoteJWKSet).reload())
      await readiness.check()
      const failure = parsed(lines).find((l) => l.event === 'identity.jwks_failed')!
      assert.equal(failure.status, 500)
      assert.match(failure.msg, /the keys fetched before stay in use/)
    } finally {
      source.close?.()
    }
  })
})
