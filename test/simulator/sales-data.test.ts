/**
 * The simulator over real HTTP: the Sales Overview liveboard and the Retail Sales worksheet answer
 * each caller through its own security — the token's row filters, the org, and the Margin column
 * only `analysts` see. Each test starts its own simulator and closes it (t.after).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CATALOGUE, type Simulator } from '../../src/simulator/server.js'
import { SECRET, V1, V2, bearer, mintFull, post, start } from './helpers.js'

const LIVEBOARD = CATALOGUE.find((item) => item.name === 'Sales Overview')!.id
const WORKSHEET = CATALOGUE.find((item) => item.name === 'Retail Sales')!.id

interface Contents {
  visualization_name?: string
  column_names: string[]
  data_rows: (string | number)[][]
}

async function liveboard(sim: Simulator, token: string): Promise<Contents[]> {
  const res = await post(
    sim,
    `${V2}/metadata/liveboard/data`,
    { metadata_identifier: LIVEBOARD },
    bearer(token),
  )
  assert.equal(res.status, 200)
  return ((await res.json()) as { contents: Contents[] }).contents
}

async function customToken(sim: Simulator, username: string, values: string[], orgId = '0') {
  const res = await post(sim, `${V2}/auth/token/custom`, {
    username,
    secret_key: SECRET,
    persist_option: 'REPLACE',
    org_identifier: orgId,
    groups: [{ identifier: 'embed_viewers' }],
    filter_rules: [{ column_name: 'Region', operator: 'IN', values }],
  })
  assert.equal(res.status, 200, await res.clone().text())
  return ((await res.json()) as { token: string }).token
}

const column = (contents: Contents, name: string) =>
  contents.data_rows.map((row) => row[contents.column_names.indexOf(name)])

describe('Sales Overview and Retail Sales', () => {
  it('shows analysts every region with Margin, and a plain viewer no Margin', async (t) => {
    const sim = await start(t)
    const analyst = await mintFull(sim, { group_identifiers: ['embed_viewers', 'analysts'] })
    const [byRegion, byMonth] = await liveboard(sim, analyst.token)
    assert.equal(byRegion?.visualization_name, 'Sales by region')
    assert.deepEqual(byRegion.column_names, ['Region', 'Total Sales', 'Margin'])
    assert.deepEqual(column(byRegion, 'Region'), [
      'North',
      'South',
      'East',
      'West',
      'Central',
      'Online',
    ])
    assert.equal(byMonth?.visualization_name, 'Monthly sales')
    assert.deepEqual(byMonth.column_names, ['Month', 'Total Sales'])
    assert.equal(byMonth.data_rows.length, 12)

    const viewer = await mintFull(sim, { username: 'victor', group_identifiers: ['embed_viewers'] })
    const [plain] = await liveboard(sim, viewer.token)
    assert.deepEqual(plain?.column_names, ['Region', 'Total Sales'])
    assert.deepEqual(column(plain, 'Total Sales'), column(byRegion, 'Total Sales'))
  })

  it('applies the token’s row filter to both visualizations, consistently', async (t) => {
    const sim = await start(t)
    const everyone = await mintFull(sim, { group_identifiers: ['embed_viewers'] })
    const [allRegions] = await liveboard(sim, everyone.token)
    const token = await customToken(sim, 'erin', ['East', 'West'])
    const [byRegion, byMonth] = await liveboard(sim, token)
    assert.deepEqual(column(byRegion!, 'Region'), ['East', 'West'])
    const total = (values: unknown[]) => values.reduce((sum: number, v) => sum + Number(v), 0)
    const east = column(allRegions!, 'Total Sales')[2]
    assert.equal(column(byRegion!, 'Total Sales')[0], east)
    assert.ok(
      Math.abs(total(column(byMonth!, 'Total Sales')) - total(column(byRegion!, 'Total Sales'))) <
        1,
      'the monthly chart adds up to the filtered regions',
    )
  })

  it('answers each org with its own data', async (t) => {
    const sim = await start(t, { orgs: [42] })
    const token = await customToken(sim, 'bob', ['EMEA', 'APAC'], '42')
    const [byRegion] = await liveboard(sim, token)
    assert.deepEqual(column(byRegion!, 'Region'), ['EMEA', 'APAC'])
  })

  it('searches the worksheet the same way, and hides Margin from non-analysts', async (t) => {
    const sim = await start(t)
    const token = await customToken(sim, 'erin', ['North'])
    const search = (query: string, identifier = WORKSHEET) =>
      post(
        sim,
        `${V2}/searchdata`,
        { logical_table_identifier: identifier, query_string: query, record_size: -1 },
        bearer(token),
      )
    const res = await search('[Region] [Total Sales]')
    const [contents] = ((await res.json()) as { contents: Contents[] }).contents
    assert.deepEqual(
      contents?.data_rows.map((row) => row[0]),
      ['North'],
    )
    const byName = await search('[Month] [Total Sales]', 'Retail Sales')
    assert.equal(
      ((await byName.json()) as { contents: Contents[] }).contents[0]?.data_rows.length,
      12,
    )
    assert.equal((await search('[Region] [Margin]')).status, 400)
    const other = await search('[Revenue] [Region]')
    assert.equal(other.status, 200, 'other columns keep the generic fake table')
  })

  it('serves v1 pinboarddata from the same data', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim, { group_identifiers: ['analysts'] })
    const login = await fetch(`${sim.url}${V1}/session/login/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-by': 't' },
      body: new URLSearchParams({ auth_token: token, no_url_redirection: 'true' }).toString(),
    })
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!
    const res = await fetch(`${sim.url}${V1}/pinboarddata?id=${LIVEBOARD}`, {
      method: 'POST',
      headers: { cookie, 'x-requested-by': 't' },
    })
    const vizzes = Object.values(
      (await res.json()) as Record<string, { name: string; columnNames: string[] }>,
    )
    assert.deepEqual(
      vizzes.map((viz) => viz.name),
      ['Sales by region', 'Monthly sales'],
    )
    assert.deepEqual(vizzes[0]?.columnNames, ['Region', 'Total Sales', 'Margin'])
  })
})
