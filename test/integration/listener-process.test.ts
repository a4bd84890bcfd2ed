/**
 * `src/main.ts` as an operator starts it applies the listener settings of its config file (the
 * same function the test stack uses) and warns once about `server.trustProxy` (issue 8 §1, §5).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'
import {
  freePort,
  scrubbedEnv,
  spawnNode,
  stopAll,
  waitFor,
  type Child,
} from '../helpers/child-process.js'
import { openRaw } from '../helpers/raw-socket.js'

const dir = mkdtempSync(join(tmpdir(), 'tsbff-listener-'))
after(async () => {
  await stopAll()
  rmSync(dir, { recursive: true, force: true })
})

/** Starts the BFF in demo mode with `server` as its config's server section; resolves its URL. */
async function startWith(server: Record<string, unknown>): Promise<{ bff: Child; url: string }> {
  const configFile = join(dir, `config-${Object.keys(server).join('-') || 'plain'}.yaml`)
  writeFileSync(configFile, `server: ${JSON.stringify(server)}\n`)
  const port = await freePort()
  const bff = spawnNode('src/main.ts', scrubbedEnv({ PORT: String(port), BFF_CONFIG: configFile }))
  await waitFor(() => bff.output().stdout.includes('Open the demo page'), {
    timeoutMs: 60_000,
    what: 'the BFF is listening',
    child: bff,
  })
  return { bff, url: `http://127.0.0.1:${port}` }
}

function warnings(bff: Child): number {
  return bff
    .output()
    .stdout.split('\n')
    .filter((line) => line.includes('"config.trust_proxy"')).length
}

it(
  'applies server.headersTimeoutMs and warns once about trustProxy',
  { timeout: 120_000 },
  async () => {
    const { bff, url } = await startWith({
      trustProxy: true,
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
    })
    assert.equal(warnings(bff), 1, bff.transcript())
    assert.match(bff.output().stdout, /only through it/)

    // A head that never ends: Node's own default would hold it for a minute or more.
    const conn = await openRaw(url)
    await conn.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    const exchange = await conn.closed
    assert.ok(exchange.closedByServer)
    assert.equal(exchange.status, 408)
    assert.equal(warnings(bff), 1, 'once, at start')
    assert.equal(await bff.stop(), 0)
  },
)

it('says nothing about trustProxy when it is off', { timeout: 120_000 }, async () => {
  const { bff } = await startWith({})
  assert.equal(warnings(bff), 0, bff.transcript())
  assert.equal(await bff.stop(), 0)
})
