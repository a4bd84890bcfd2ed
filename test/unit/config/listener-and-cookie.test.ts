/**
 * The config keys of the listener (server.*TimeoutMs, server.maxHeaderBytes) and the session
 * cookie's name: `__Host-tsbff.sid` by default, `tsbff.sid` in demo mode (plain http), and a
 * prefixed name where the cookie cannot be Secure stops the start (issue 8 §1, §5).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadConfig, type Config } from '../../../src/config/load.js'
import { StartupError } from '../../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'tsbff-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let counter = 0
function load(env: Record<string, string>, yaml = ''): Config {
  const path = join(dir, `config-${++counter}.yaml`)
  writeFileSync(path, yaml)
  return loadConfig({ BFF_CONFIG: path, ...env })
}

function problemsOf(env: Record<string, string>, yaml: string): string[] {
  try {
    load(env, yaml)
  } catch (err) {
    if (err instanceof StartupError) return [...err.problems]
    throw err
  }
  return []
}

const NORMAL = {
  TS_HOST: 'https://acme.thoughtspot.cloud',
  TS_SECRET_KEY: 'ts-secret',
  SESSION_SECRET: 's'.repeat(40),
  IDENTITY_HS256_SECRET: 'h'.repeat(40),
  IDENTITY_ISSUER: 'https://idp',
  IDENTITY_AUDIENCE: 'bff',
}
const DEMO = {}

describe('listener settings', () => {
  it('have deliberate defaults: keep-alive outlasts a 60 s load balancer idle timeout', () => {
    const { server } = load(NORMAL)
    assert.equal(server.headersTimeoutMs, 10_000)
    assert.equal(server.requestTimeoutMs, 30_000)
    assert.equal(server.keepAliveTimeoutMs, 65_000)
    assert.ok(server.keepAliveTimeoutMs > 60_000)
    assert.equal(server.maxHeaderBytes, 16 * 1024)
  })

  it('are read from the file, sizes in kb', () => {
    const { server } = load(
      NORMAL,
      'server: { headersTimeoutMs: 5000, requestTimeoutMs: 6000, keepAliveTimeoutMs: 620000, maxHeaderBytes: 32kb }',
    )
    assert.deepEqual(
      [
        server.headersTimeoutMs,
        server.requestTimeoutMs,
        server.keepAliveTimeoutMs,
        server.maxHeaderBytes,
      ],
      [5000, 6000, 620_000, 32 * 1024],
    )
  })

  it('refuse a head timeout longer than the request timeout, naming the key and file', () => {
    const problems = problemsOf(
      NORMAL,
      'server: { headersTimeoutMs: 9000, requestTimeoutMs: 8000 }',
    )
    assert.equal(problems.length, 1)
    assert.match(
      problems[0] ?? '',
      /config-\d+\.yaml.*server\.headersTimeoutMs: must not be more than server\.requestTimeoutMs \(8000\)/,
    )
  })

  it('refuse zero and negative timeouts', () => {
    const problems = problemsOf(NORMAL, 'server: { keepAliveTimeoutMs: 0, requestTimeoutMs: -1 }')
    assert.equal(problems.length, 2, problems.join('\n'))
  })
})

describe('session cookie name', () => {
  it('is __Host-tsbff.sid outside demo mode', () => {
    assert.equal(load(NORMAL).session.cookieName, '__Host-tsbff.sid')
  })

  it('is __Host-tsbff.sid with the shipped config/default.yaml', () => {
    const config = loadConfig({ BFF_CONFIG: 'config/default.yaml', ...NORMAL })
    assert.equal(config.session.cookieName, '__Host-tsbff.sid')
  })

  it('is tsbff.sid in demo mode while the default is configured (plain http)', () => {
    assert.equal(load(DEMO).session.cookieName, 'tsbff.sid')
    const shipped = loadConfig({ BFF_CONFIG: 'config/default.yaml' })
    assert.equal(shipped.mode, 'demo')
    assert.equal(shipped.session.cookieName, 'tsbff.sid')
  })

  it('keeps an explicit unprefixed name in either mode (e.g. the old tsbff.sid)', () => {
    assert.equal(load(NORMAL, 'session: { cookieName: tsbff.sid }').session.cookieName, 'tsbff.sid')
    assert.equal(load(DEMO, 'session: { cookieName: my.sid }').session.cookieName, 'my.sid')
  })

  it('keeps an explicit __Host-/__Secure- name outside demo mode', () => {
    assert.equal(
      load(NORMAL, 'session: { cookieName: __Host-app }').session.cookieName,
      '__Host-app',
    )
    assert.equal(
      load(NORMAL, 'session: { cookieName: __Secure-app }').session.cookieName,
      '__Secure-app',
    )
  })

  for (const name of ['__Host-app', '__Secure-app', '__host-app']) {
    it(`refuses ${name} in demo mode, where the cookie cannot be Secure`, () => {
      const problems = problemsOf(DEMO, `session: { cookieName: ${name} }`)
      assert.equal(problems.length, 1, problems.join('\n'))
      assert.match(problems[0] ?? '', /session\.cookieName: .*needs a Secure cookie.*demo mode/)
    })
  }
})
