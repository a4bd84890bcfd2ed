/**
 * A port that cannot be listened on names the port and which listener (issue 9): the main one
 * (PORT / server.port) or the metrics one (server.metricsPort). `node src/main.ts` as a child
 * process, exactly one line on stderr, exit 1, no stack trace.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  freePort,
  holdFreePort,
  scrubbedEnv,
  spawnNode,
  stopAll,
} from '../helpers/child-process.js'
import { TEST_AUDIENCE, TEST_HS256_SECRET, TEST_ISSUER } from '../helpers/jwt.js'

const START_TIMEOUT_MS = 60_000
const dir = mkdtempSync(join(tmpdir(), 'tsbff-listen-'))
after(async () => {
  await stopAll()
  rmSync(dir, { recursive: true, force: true })
})

async function production(extra: Record<string, string>): Promise<Record<string, string>> {
  return scrubbedEnv({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    TS_HOST: `http://127.0.0.1:${await freePort()}`,
    TS_SECRET_KEY: 'listen-test-ts-secret-key',
    SESSION_SECRET: 'listen-test-session-secret-0123456789abcdef',
    IDENTITY_HS256_SECRET: TEST_HS256_SECRET,
    IDENTITY_ISSUER: TEST_ISSUER,
    IDENTITY_AUDIENCE: TEST_AUDIENCE,
    ...extra,
  })
}

/** Runs the BFF until it exits; its exit code and stderr lines. */
async function refusedStart(env: Record<string, string>) {
  const bff = spawnNode('src/main.ts', env)
  const timer = setTimeout(() => bff.child.kill('SIGKILL'), START_TIMEOUT_MS)
  const code = await bff.exited
  clearTimeout(timer)
  const { stderr } = bff.output()
  return { code, lines: stderr.split('\n').filter((line) => line !== ''), stderr }
}

describe('a listener that cannot listen', () => {
  it('the main port in use: names the main listener, its address and PORT', async () => {
    const taken = await holdFreePort()
    try {
      const { code, lines, stderr } = await refusedStart(
        await production({ PORT: String(taken.port) }),
      )
      assert.equal(code, 1)
      assert.deepEqual(lines, [
        `thoughtspot-bff: main listener on 127.0.0.1:${taken.port} (PORT or server.port): the port is in use by another process; cannot listen: EADDRINUSE`,
      ])
      assert.doesNotMatch(stderr, /^\s+at\s/m)
    } finally {
      await taken.release()
    }
  })

  it('the metrics port in use: names the metrics listener and server.metricsPort', async () => {
    const taken = await holdFreePort()
    const config = join(dir, 'metrics.yaml')
    writeFileSync(config, `server:\n  metricsPort: ${taken.port}\n`)
    try {
      const { code, lines } = await refusedStart(
        await production({ PORT: String(await freePort()), BFF_CONFIG: config }),
      )
      assert.equal(code, 1)
      assert.deepEqual(lines, [
        `thoughtspot-bff: metrics listener on 127.0.0.1:${taken.port} (server.metricsPort): the port is in use by another process; cannot listen: EADDRINUSE`,
      ])
    } finally {
      await taken.release()
    }
  })
})
