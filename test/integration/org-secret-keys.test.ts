/**
 * Per-org secret keys (issue 9 §2): `thoughtspot.orgSecretKeyFiles` gives an org a key of its
 * own; a user mapped to that org is minted with it, every other user with the cluster key. The
 * simulator knows both keys, and each test asserts which key reached it for which org.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startSimulator, type Simulator } from '../../src/simulator/server.js'
import { testClock } from '../helpers/clock.js'
import { DEFAULT_MAPPING, startStack, TEST_TS_SECRET, type Stack } from '../helpers/start.js'

const ORG_KEY = 'globex-org-trusted-auth-key-9d2e'
const GLOBEX = 42

let dir: string
let keyFile: string
const clock = testClock()
let simulator: Simulator

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsbff-org-keys-'))
  keyFile = join(dir, 'globex_key')
  writeFileSync(keyFile, `${ORG_KEY}\n`)
  simulator = await startSimulator({
    secretKey: TEST_TS_SECRET,
    orgSecretKeys: { [GLOBEX]: ORG_KEY },
    orgs: [GLOBEX],
    groups: ['embed_viewers', 'analysts', 'executives'],
    now: clock.now,
    quiet: true,
  })
})
after(async () => {
  await simulator.close()
  rmSync(dir, { recursive: true, force: true })
})

const withOrgKeys = () => ({ thoughtspot: { orgSecretKeyFiles: { [GLOBEX]: keyFile } } })

/** The key and org of the last mint that reached the simulator at `path`. */
function lastMint(path: string): { key: unknown; org: unknown; status: number | undefined } {
  const call = simulator.state.callsTo(path).at(-1)
  const json = (call?.json ?? {}) as Record<string, unknown>
  const form = call?.form ?? {}
  return {
    key: json.secret_key ?? form.secret_key,
    org: json.org_id ?? json.org_identifier ?? form.orgid,
    status: call?.status,
  }
}

describe('with REST v2', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({
      simulator,
      clock,
      config: withOrgKeys(),
      mapping: `${DEFAULT_MAPPING}attributes:\n  - { claim: region, column: Region, operator: IN }\n`,
    })
  })
  after(() => stack.close())

  const token = async (claims: Record<string, unknown>) =>
    stack.request.get('/ts/auth/token').set('Authorization', `Bearer ${await stack.jwt(claims)}`)

  it('mints a user of the org with its own key, and everyone else with the cluster key', async () => {
    assert.equal((await token({ sub: 'wile@globex.com', email: 'wile@globex.com' })).status, 200)
    assert.deepEqual(lastMint('/auth/token/full'), { key: ORG_KEY, org: GLOBEX, status: 200 })
    assert.equal((await token({ sub: 'ann@acme.com' })).status, 200)
    assert.deepEqual(lastMint('/auth/token/full'), { key: TEST_TS_SECRET, org: 0, status: 200 })
  })

  it('uses the org’s key for row-filtered (custom) mints too', async () => {
    const response = await token({ sub: 'rf@globex.com', email: 'rf@globex.com', region: 'EMEA' })
    assert.equal(response.status, 200)
    assert.deepEqual(lastMint('/auth/token/custom'), {
      key: ORG_KEY,
      org: String(GLOBEX),
      status: 200,
    })
  })

  it('rotates the org’s key from its file', async () => {
    const rotated = 'globex-org-key-after-rotation-51aa'
    simulator.state.orgSecretKeys.set(GLOBEX, rotated)
    writeFileSync(keyFile, rotated)
    const report = stack.services.secrets.reload()
    assert.deepEqual(
      report.map(({ setting, orgId, outcome }) => [setting, orgId, outcome]),
      [['TS_ORG_SECRET_KEY', GLOBEX, 'rotated']],
    )
    assert.equal((await token({ sub: 'new@globex.com', email: 'new@globex.com' })).status, 200)
    assert.deepEqual(lastMint('/auth/token/full'), { key: rotated, org: GLOBEX, status: 200 })
    simulator.state.orgSecretKeys.set(GLOBEX, ORG_KEY)
    writeFileSync(keyFile, ORG_KEY)
    stack.services.secrets.reload()
  })
})

describe('with REST v1', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({
      simulator,
      clock,
      config: withOrgKeys(),
      env: { TS_AUTH_API: 'v1' },
    })
  })
  after(() => stack.close())

  it('sends the org’s key to session/auth/token for a user of that org', async () => {
    const jwt = await stack.jwt({ sub: 'v1@globex.com', email: 'v1@globex.com' })
    const response = await stack.request.get('/ts/auth/token').set('Authorization', `Bearer ${jwt}`)
    assert.equal(response.status, 200)
    assert.deepEqual(lastMint('/session/auth/token'), {
      key: ORG_KEY,
      org: String(GLOBEX),
      status: 200,
    })
  })
})

describe('configuration mistakes stop the start, naming the key', () => {
  it('an org key file that cannot be read', async () => {
    await assert.rejects(
      startStack({
        simulator,
        config: { thoughtspot: { orgSecretKeyFiles: { [GLOBEX]: join(dir, 'missing') } } },
      }),
      /thoughtspot\.orgSecretKeyFiles\.42: cannot read file .*missing \(ENOENT\)/,
    )
  })

  it('an org key file that is empty', async () => {
    const empty = join(dir, 'empty')
    writeFileSync(empty, '\n')
    await assert.rejects(
      startStack({ simulator, config: { thoughtspot: { orgSecretKeyFiles: { 7: empty } } } }),
      /thoughtspot\.orgSecretKeyFiles\.7: file .* is empty/,
    )
  })

  it('an org id that is not a number', async () => {
    await assert.rejects(
      startStack({
        simulator,
        config: { thoughtspot: { orgSecretKeyFiles: { globex: keyFile } } },
      }),
      /thoughtspot\.orgSecretKeyFiles.*must be an org id/,
    )
  })
})
