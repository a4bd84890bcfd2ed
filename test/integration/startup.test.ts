/**
 * `node src/main.ts` as an operator starts it : a child process with a scrubbed
 * environment. A refused start is exit code ≠ 0 and one clear line on stderr, never a stack
 * trace; a good one serves /readyz and drains on SIGTERM; secrets never reach its output.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type Simulator } from '../../src/simulator/server.js'
import {
  freePort,
  holdFreePort,
  scrubbedEnv,
  spawnNode,
  stopAll,
  waitFor,
  type Child,
} from '../helpers/child-process.js'
import { signAppJwt, TEST_AUDIENCE, TEST_HS256_SECRET, TEST_ISSUER } from '../helpers/jwt.js'

const START_TIMEOUT_MS = 60_000

/** Distinctive values, so that finding them in the output cannot be a coincidence. */
const SECRET_KEY = 'startup-test-ts-secret-7f3a9c21-d4e8-4b6a-9e0f-5c2d1b8a7e63'
const SESSION_SECRET = 'startup-test-session-secret-0c9e8d7f6a5b4c3d2e1f'

const cleanups: (() => unknown)[] = []

after(async () => {
  await stopAll()
  for (const cleanup of cleanups.reverse()) await cleanup()
})

const startBff = (env: Record<string, string>): Child => spawnNode('src/main.ts', scrubbedEnv(env))

/** Waits for a process that must refuse to start. */
async function refused(bff: Child): Promise<{ code: number | string; lines: string[] }> {
  const timer = setTimeout(() => bff.child.kill('SIGKILL'), START_TIMEOUT_MS)
  const code = await bff.exited
  clearTimeout(timer)
  return {
    code,
    lines: bff
      .output()
      .stderr.split('\n')
      .filter((line) => line !== ''),
  }
}

async function waitReady(bff: Child, url: string): Promise<void> {
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
    timeoutMs: START_TIMEOUT_MS,
    what: 'the BFF is ready',
    child: bff,
  })
}

function assertNoStackTrace(bff: Child): void {
  assert.doesNotMatch(
    bff.output().stderr,
    /^\s+at\s/m,
    `a stack trace on stderr${bff.transcript()}`,
  )
}

let dir: string
/** A complete production configuration; TS_HOST points at a port nothing listens on. */
let production: Record<string, string>

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsbff-startup-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  production = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    TS_HOST: `http://127.0.0.1:${await freePort()}`,
    TS_SECRET_KEY: SECRET_KEY,
    SESSION_SECRET,
    IDENTITY_HS256_SECRET: TEST_HS256_SECRET,
    IDENTITY_ISSUER: TEST_ISSUER,
    IDENTITY_AUDIENCE: TEST_AUDIENCE,
  }
})

describe('a refused start', () => {
  it('in production with nothing set: one line on stderr naming every missing setting', async () => {
    const bff = startBff({ NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0' })
    const { code, lines } = await refused(bff)
    assert.notEqual(code, 0)
    assert.equal(lines.length, 1, `exactly one line on stderr${bff.transcript()}`)
    for (const name of [
      'TS_HOST',
      'TS_SECRET_KEY',
      'SESSION_SECRET',
      'IDENTITY_HS256_SECRET',
      'IDENTITY_ISSUER',
      'IDENTITY_AUDIENCE',
    ]) {
      assert.ok(lines[0]!.includes(name), `names ${name}: ${lines[0]!}`)
    }
    assertNoStackTrace(bff)
  })

  it('in production without SESSION_SECRET: one line naming it and nothing else', async () => {
    const { SESSION_SECRET: _left, ...env } = production
    const bff = startBff(env)
    const { code, lines } = await refused(bff)
    assert.notEqual(code, 0)
    assert.equal(lines.length, 1, `exactly one line on stderr${bff.transcript()}`)
    assert.match(lines[0]!, /SESSION_SECRET/)
    for (const name of ['TS_HOST', 'TS_SECRET_KEY', 'IDENTITY_ISSUER', 'IDENTITY_AUDIENCE']) {
      assert.ok(!lines[0]!.includes(name), `does not name ${name}: ${lines[0]!}`)
    }
    assertNoStackTrace(bff)
  })

  it('an unknown key in the BFF_CONFIG file: exit 1 naming the file, the line and the key', async () => {
    const file = join(dir, 'unknown-key.yaml')
    writeFileSync(file, 'server:\n  port: 3000\n  trustProxi: true\n')
    const bff = startBff({ ...production, BFF_CONFIG: file })
    const { code, lines } = await refused(bff)
    assert.equal(code, 1)
    assert.equal(lines.length, 1, `exactly one line on stderr${bff.transcript()}`)
    assert.ok(lines[0]!.includes(`${file}:3`), `names the file and line: ${lines[0]!}`)
    assert.ok(lines[0]!.includes('server.trustProxi'), `names the key: ${lines[0]!}`)
    assertNoStackTrace(bff)
  })

  it('an invalid BFF_MAPPING file: exit 1 naming the file and the line', async () => {
    const file = join(dir, 'bad-mapping.yaml')
    writeFileSync(
      file,
      [
        'default:',
        '  groups: [embed_viewers]',
        'rules:',
        '  - when: { claim: roles, includes: analyst }',
        '    grups: [analysts]',
        '',
      ].join('\n'),
    )
    const bff = startBff({ ...production, BFF_MAPPING: file })
    const { code, lines } = await refused(bff)
    assert.equal(code, 1)
    assert.ok(lines.length >= 1, `a line on stderr${bff.transcript()}`)
    assert.ok(
      lines.some((line) => line.includes(`${file}:5`)),
      `names the file and line 5${bff.transcript()}`,
    )
    assertNoStackTrace(bff)
  })

  it('a PORT already in use: exit 1 with one line "cannot listen: EADDRINUSE"', async () => {
    const taken = await holdFreePort()
    cleanups.push(() => taken.release())
    const bff = startBff({ ...production, PORT: String(taken.port) })
    const { code, lines } = await refused(bff)
    assert.equal(code, 1)
    assert.equal(lines.length, 1, `exactly one line on stderr${bff.transcript()}`)
    assert.match(lines[0]!, /cannot listen: EADDRINUSE$/)
    assertNoStackTrace(bff)
  })
})

describe('a good start', () => {
  it('serves /readyz with a valid production config and exits 0 on SIGTERM', async () => {
    const port = await freePort()
    const bff = startBff({ ...production, PORT: String(port) })
    const url = `http://127.0.0.1:${port}`
    await waitReady(bff, url)
    assert.equal((await fetch(`${url}/healthz`)).status, 200)
    assert.equal(await bff.stop(START_TIMEOUT_MS), 0, bff.transcript())
    assertNoStackTrace(bff)
  })

  describe('with a ThoughtSpot to mint from', () => {
    let simulator: Simulator
    before(async () => {
      simulator = await startSimulator({ secretKey: SECRET_KEY, quiet: true })
      cleanups.push(() => simulator.close())
    })

    it('never prints the secret key, the session secret, the app JWT or the minted token', async () => {
      const port = await freePort()
      // trace: the most a log ever says.
      const bff = startBff({
        ...production,
        PORT: String(port),
        TS_HOST: simulator.url,
        LOG_LEVEL: 'trace',
      })
      const url = `http://127.0.0.1:${port}`
      await waitReady(bff, url)
      const jwt = await signAppJwt(
        { sub: 'startup-user@acme.com', email: 'startup-user@acme.com', roles: ['analyst'] },
        { now: Date.now },
      )
      const auth = { Authorization: `Bearer ${jwt}` }
      const minted = await fetch(`${url}/ts/auth/token`, { headers: auth })
      assert.equal(minted.status, 200, bff.transcript())
      const token = await minted.text()
      assert.ok(token.length > 0)
      const fresh = await fetch(`${url}/ts/auth/token?fresh=true`, {
        headers: { ...auth, Accept: 'application/json' },
      })
      assert.equal(fresh.status, 200)
      const freshToken = ((await fresh.json()) as { token: string }).token
      assert.equal(
        simulator.state.callsTo('/api/rest/2.0/auth/token/full').length,
        2,
        'both requests minted upstream with the secret key',
      )
      assert.equal(await bff.stop(START_TIMEOUT_MS), 0, bff.transcript())

      const { stdout, stderr } = bff.output()
      const output = stdout + stderr
      assert.ok(output.includes('startup-user@acme.com'), 'the mints were logged (audit)')
      for (const [what, value] of [
        ['the secret key', SECRET_KEY],
        ['the session secret', SESSION_SECRET],
        ['the app JWT', jwt],
        ['the minted token', token],
        ['the fresh token', freshToken],
      ] as const) {
        assert.ok(!output.includes(value), `${what} appears in the output${bff.transcript()}`)
      }
    })
  })
})
