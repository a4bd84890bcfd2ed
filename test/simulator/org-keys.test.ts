/**
 * Per-org trusted-auth keys in the simulator: an org's own key mints in that org only, the
 * cluster (Primary-Org) key in every org, and a key changed in the state takes effect at once.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SECRET, V1, V2, post, postForm, start } from './helpers.js'

const ORG_KEY = 'sim-org-42-key-2b7d'

describe('per-org keys', () => {
  it('mints with an org’s key in that org (v2 full, custom and v1), never in another', async (t) => {
    const sim = await start(t, { orgs: [42, 7], orgSecretKeys: { 42: ORG_KEY } })
    const full = (org: number, key: string) =>
      post(sim, `${V2}/auth/token/full`, {
        username: `u${org}`,
        secret_key: key,
        org_id: org,
        auto_create: true,
      })
    assert.equal((await full(42, ORG_KEY)).status, 200)
    assert.equal((await full(42, SECRET)).status, 200, 'the cluster key mints in every org')
    assert.equal((await full(0, ORG_KEY)).status, 401)
    assert.equal((await full(7, ORG_KEY)).status, 401)
    const custom = await post(sim, `${V2}/auth/token/custom`, {
      username: 'c42',
      secret_key: ORG_KEY,
      org_identifier: '42',
      persist_option: 'REPLACE',
    })
    assert.equal(custom.status, 200)
    const v1 = (org: number) =>
      postForm(sim, `${V1}/session/auth/token`, {
        username: `v${org}`,
        secret_key: ORG_KEY,
        orgid: String(org),
        access_level: 'FULL',
        autocreate: 'true',
      })
    assert.equal((await v1(42)).status, 200)
    assert.equal((await v1(0)).status, 401)
  })

  it('takes a changed cluster key at once (a key regenerated upstream)', async (t) => {
    const sim = await start(t)
    sim.state.secretKey = 'regenerated-key-91c3'
    const mint = (key: string) =>
      post(sim, `${V2}/auth/token/full`, { username: 'r', secret_key: key, auto_create: true })
    assert.equal((await mint(SECRET)).status, 401)
    assert.equal((await mint('regenerated-key-91c3')).status, 200)
  })
})
