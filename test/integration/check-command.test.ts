/**
 * The check command (issue 9 §1) against a real simulator, a real identity provider on loopback
 * and real files: every config problem at once, sorted; the JWKS summarised (404, not JSON,
 * good); ThoughtSpot reached without credentials, or named with the cause when down; `--user`
 * a real mint with the mapping applied, then a revoke — asserted on what reached the simulator.
 * Nothing printed may hold a secret or the minted token.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { exportJWK } from 'jose'
import { runCheck } from '../../src/cli/check-run.js'
import { PROBE_PATH } from '../../src/cli/check-thoughtspot.js'
import type { Simulator } from '../../src/simulator/server.js'
import { freePort } from '../helpers/child-process.js'
import { TEST_AUDIENCE, TEST_HS256_SECRET, TEST_ISSUER } from '../helpers/jwt.js'
import { startTestSimulator, TEST_SESSION_SECRET, TEST_TS_SECRET } from '../helpers/start.js'

const MAPPING = `
default:
  groups: [embed_viewers]
rules:
  - when: { claim: roles, includes: analyst }
    groups: [analysts]
  - when: { claim: status, equals: suspended }
    deny: true
`

let dir: string
let simulator: Simulator
let idp: Server
let idpUrl: string
let jwksMode: 'good' | '404' | 'not-json' = 'good'
const servers: Server[] = []

function write(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

async function listenOnLoopback(server: Server): Promise<string> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsbff-check-'))
  simulator = await startTestSimulator()
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1' },
    { kty: 'oct', kid: 'hmac-1', k: 'c2VjcmV0' },
  ]
  idp = createServer((_req, res) => {
    if (jwksMode === '404') res.writeHead(404).end()
    else if (jwksMode === 'not-json') res.writeHead(200, { 'content-type': 'text/html' }).end('<p>')
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }))
  })
  idpUrl = await listenOnLoopback(idp)
})
after(async () => {
  await simulator.close()
  for (const server of servers) await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => {
  simulator.state.clearCalls()
  simulator.state.clearFault()
  jwksMode = 'good'
})

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    BFF_CONFIG: write('config.yaml', ''),
    BFF_MAPPING: write('mapping.yaml', MAPPING),
    TS_HOST: simulator.url,
    TS_SECRET_KEY: TEST_TS_SECRET,
    SESSION_SECRET: TEST_SESSION_SECRET,
    IDENTITY_HS256_SECRET: TEST_HS256_SECRET,
    IDENTITY_ISSUER: TEST_ISSUER,
    IDENTITY_AUDIENCE: TEST_AUDIENCE,
    ...extra,
  }
}

interface Report {
  ok: boolean
  exitCode: number
  checks: Array<{
    name: string
    ok: boolean
    skipped: boolean
    detail: string
    problems: string[]
    warnings: string[]
    notes: string[]
  }>
}

async function check(argv: string[], environment: Record<string, string>) {
  const run = await runCheck(['--json', ...argv], environment)
  const report = JSON.parse(run.out) as Report
  assert.equal(report.exitCode, run.code)
  for (const secret of [TEST_TS_SECRET, TEST_SESSION_SECRET, TEST_HS256_SECRET]) {
    assert.ok(!run.out.includes(secret), 'no secret in the output')
  }
  const byName = (name: string) => report.checks.find((c) => c.name === name)!
  return { code: run.code, report, byName, text: run.out }
}

describe('arguments', () => {
  it('--help prints the usage with the exit codes and exits 0', async () => {
    const run = await runCheck(['--help'], {})
    assert.equal(run.code, 0)
    assert.match(run.out, /^usage: npm run check/)
    assert.match(run.out, /exit codes: 0 ok .* 1 the configuration is invalid, 2 bad arguments/s)
  })

  it('bad arguments exit 2 with the usage on stderr', async () => {
    for (const argv of [['--bogus'], ['--claims', '[1]'], ['--object-id', 'x']]) {
      const run = await runCheck(argv, env())
      assert.equal(run.code, 2, argv.join(' '))
      assert.match(run.err, /usage: npm run check/)
    }
  })
})

describe('the configuration', () => {
  it('reports every problem at once, sorted by file and line, and skips the rest (exit 1)', async () => {
    const config = write('bad-config.yaml', 'bogus: 1\nserver:\n  prot: 3000\n')
    const mapping = write(
      'bad-mapping.yaml',
      'rules:\n  - when: { claim: roles, includes: analyst }\n    grups: [analysts]\n  - when: { claim: x }\n    groups: [y]\n',
    )
    const { code, report, byName } = await check(
      [],
      env({ BFF_CONFIG: config, BFF_MAPPING: mapping }),
    )
    assert.equal(code, 1)
    const { problems } = byName('config')
    assert.ok(problems.length >= 3, problems.join('\n'))
    assert.match(problems[0]!, new RegExp(`^${config}:1: bogus: unknown key`))
    assert.match(
      problems[1]!,
      new RegExp(`^${config}:3: server.prot: unknown key \\(did you mean "port"\\?\\)`),
    )
    const where = problems
      .map((p) => /^(.+?\.yaml):(\d+):/.exec(p))
      .map((m) => [m![1], Number(m![2])])
    const sorted = [...where].sort((a, b) =>
      a[0] === b[0] ? (a[1] as number) - (b[1] as number) : a[0] === config ? -1 : 1,
    )
    assert.deepEqual(where, sorted)
    assert.ok(
      where.some(([file]) => file === mapping),
      'the mapping’s problems too',
    )
    for (const name of ['identity', 'thoughtspot', 'mint']) assert.equal(byName(name).skipped, true)
    assert.equal(report.ok, false)
    assert.equal(simulator.state.calls.length, 0)
  })

  it('demo mode (no TS_HOST): the config is checked, nothing is called (exit 0)', async () => {
    const { TS_HOST: _host, TS_SECRET_KEY: _key, ...demo } = env()
    const { code, byName } = await check(['--user', 'alice'], demo)
    assert.equal(code, 0)
    assert.match(byName('config').detail, /demo mode/)
    assert.equal(byName('mint').skipped, true)
    assert.equal(simulator.state.calls.length, 0)
  })

  it('shows the warnings a start would log (a misspelt variable)', async () => {
    const { code, byName } = await check([], env({ TS_TOKEN_VALIDITY_SECOND: '600' }))
    assert.equal(code, 0)
    assert.ok(
      byName('config').warnings.some((w) => /did you mean TS_TOKEN_VALIDITY_SECONDS/.test(w)),
    )
  })
})

describe('the identity provider', () => {
  const jwks = () => ({ IDENTITY_HS256_SECRET: '', IDENTITY_JWKS_URL: `${idpUrl}/jwks.json` })

  it('a good JWKS: how many keys, which algorithms and kids; an unusable key is a warning', async () => {
    const { code, byName } = await check([], env(jwks()))
    assert.equal(code, 0)
    const identity = byName('identity')
    assert.equal(
      identity.detail,
      `JWKS ${idpUrl}/jwks.json: HTTP 200, 3 key(s), 2 usable (RS256, ES256)`,
    )
    assert.ok(identity.notes.includes('kid "rsa-1": RSA, RS256'))
    assert.ok(identity.notes.includes('kid "ec-1": EC, ES256'))
    assert.deepEqual(identity.warnings, [
      'JWKS key kid "hmac-1": oct, not usable (holds private or secret key material): ignored',
    ])
  })

  it('a JWKS answering 404: exit 3 naming the identity provider, URL and status', async () => {
    jwksMode = '404'
    const { code, byName } = await check([], env(jwks()))
    assert.equal(code, 3)
    assert.equal(
      byName('identity').detail,
      `the identity provider's JWKS at ${idpUrl}/jwks.json cannot be used: HTTP 404`,
    )
  })

  it('a JWKS that is not JSON: exit 3, saying so', async () => {
    jwksMode = 'not-json'
    const { code, byName } = await check([], env(jwks()))
    assert.equal(code, 3)
    assert.match(byName('identity').detail, /cannot be used: the answer is not JSON$/)
  })
})

describe('ThoughtSpot', () => {
  it('is reached with one unauthenticated call; without --user nothing is minted (exit 0)', async () => {
    const { code, byName } = await check([], env())
    assert.equal(code, 0)
    assert.match(
      byName('thoughtspot').detail,
      /answered GET \/callosum\/v1\/tspublic\/v1\/session\/info \(no credentials\) with HTTP 401/,
    )
    assert.equal(byName('mint').skipped, true)
    const calls = simulator.state.calls
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path}`),
      [`GET ${PROBE_PATH}`],
    )
    assert.equal(calls[0]!.headers.authorization, undefined)
  })

  it('down: exit 3 naming the host and the cause; the mint is skipped', async () => {
    const port = await freePort()
    const { code, byName } = await check(
      ['--user', 'alice'],
      env({ TS_HOST: `http://127.0.0.1:${port}` }),
    )
    assert.equal(code, 3)
    assert.equal(
      byName('thoughtspot').detail,
      `http://127.0.0.1:${port} is unreachable: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`,
    )
    assert.equal(byName('mint').skipped, true)
  })

  it('a maintenance page: exit 3, not ThoughtSpot’s API', async () => {
    simulator.state.setFault({ mode: 'maintenance' })
    const { code, byName } = await check([], env())
    assert.equal(code, 3)
    assert.match(byName('thoughtspot').detail, /an HTML page \(HTTP 200\)/)
  })
})

describe('--user: a real mint, then a revoke', () => {
  it('mints with the mapping applied and revokes; the token is never printed (exit 0)', async () => {
    const { code, byName, text } = await check(
      ['--user', 'check-user@acme.com', '--claims', '{"roles":["analyst"],"email":"c@acme.com"}'],
      env(),
    )
    assert.equal(code, 0, text)
    const [mint] = simulator.state.callsTo('/api/rest/2.0/auth/token/full')
    assert.ok(mint, 'a mint reached ThoughtSpot')
    const body = mint.json as Record<string, unknown>
    assert.equal(body.username, 'check-user@acme.com')
    assert.equal(body.secret_key, TEST_TS_SECRET)
    assert.deepEqual(body.group_identifiers, ['analysts', 'embed_viewers'])
    assert.equal(body.email, 'c@acme.com')
    assert.equal(mint.status, 200)
    const [revoke] = simulator.state.callsTo('/api/rest/2.0/auth/token/revoke')
    assert.equal(revoke?.status, 204)
    const minted = [...simulator.state.tokens.values()].filter(
      (t) => t.username === 'check-user@acme.com',
    )
    assert.equal(minted.length, 1)
    assert.equal(minted[0]!.revoked, true)
    assert.ok(!text.includes(minted[0]!.token), 'the token is not printed')
    assert.match(
      byName('mint').detail,
      /^minted a token for check-user@acme\.com through REST v2 auth\/token\/full \(org 0, groups analysts, embed_viewers, FULL, autoCreate true\), valid until .*; revoked it$/,
    )
  })

  it('a wrong secret key: exit 3 with the bad-secret message', async () => {
    const { code, byName } = await check(
      ['--user', 'alice'],
      env({ TS_SECRET_KEY: 'not-the-key-0000' }),
    )
    assert.equal(code, 3)
    assert.equal(
      byName('mint').detail,
      'mint for alice failed: ThoughtSpot refused the mint call (HTTP 401, code 10097): check TS_SECRET_KEY / trusted auth enabled for this cluster or org',
    )
  })

  it('trusted auth off for the cluster or org (403 / 10023): exit 3 with the same message', async () => {
    // A cluster with trusted auth off answers session/info like any other and refuses mints.
    const off = createServer((req, res) => {
      req.resume()
      const mint = req.url?.startsWith('/api/rest/2.0/auth/token/') ?? false
      const code = mint ? 10023 : 10097
      res.writeHead(mint ? 403 : 401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: { code, debug: 'refused' } } }))
    })
    const url = await listenOnLoopback(off)
    const { code, byName } = await check(['--user', 'alice'], env({ TS_HOST: url }))
    assert.equal(code, 3)
    assert.match(
      byName('mint').detail,
      /\(HTTP 403, code 10023\): check TS_SECRET_KEY \/ trusted auth enabled for this cluster or org$/,
    )
  })

  it('a user the mapping refuses: exit 4, nothing minted', async () => {
    const { code, byName } = await check(
      ['--user', 'sam', '--claims', '{"status":"suspended"}'],
      env(),
    )
    assert.equal(code, 4)
    assert.equal(byName('mint').detail, 'sam is denied by rules[1] (403 DENIED); nothing minted')
    const noDefault = write(
      'no-default.yaml',
      'rules:\n  - when: { claim: roles, includes: a }\n    groups: [g]\n',
    )
    const notMapped = await check(['--user', 'nobody'], env({ BFF_MAPPING: noDefault }))
    assert.equal(notMapped.code, 4)
    assert.match(notMapped.byName('mint').detail, /^nobody is not mapped/)
    assert.equal(simulator.state.callsTo(/auth\/token/).length, 0)
  })

  it('REST v1: mints through session/auth/token and says it cannot be revoked', async () => {
    const { code, byName } = await check(['--user', 'v1-user'], env({ TS_AUTH_API: 'v1' }))
    assert.equal(code, 0)
    assert.match(byName('mint').detail, /through REST v1 session\/auth\/token .*cannot be revoked/)
    assert.equal(simulator.state.callsTo('/callosum/v1/tspublic/v1/session/auth/token').length, 1)
  })
})
