/**
 * The simulator over real HTTP: REST v2 data endpoints: search data, metadata search, reports.
 * Each test starts its own simulator and closes it (t.after).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CATALOGUE } from '../../src/simulator/server.js'
import { V2, start, post, bearer, mintFull } from './helpers.js'

describe('v2 data endpoints', () => {
  it('serves deterministic search data and requires its fields', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const body = { logical_table_identifier: 'retail', query_string: '[Region] [Sales]' }
    const first = await post(sim, `${V2}/searchdata`, body, bearer(token))
    assert.equal(first.status, 200)
    const data = (await first.json()) as {
      contents: {
        column_names: string[]
        data_rows: unknown[][]
        returned_data_row_count: number
      }[]
    }
    assert.deepEqual(data.contents[0]?.column_names, ['Region', 'Sales'])
    assert.equal(data.contents[0].data_rows.length, 10)
    const second = await post(sim, `${V2}/searchdata`, body, bearer(token))
    assert.deepEqual(await second.json(), data)
    const missing = await post(sim, `${V2}/searchdata`, { query_string: 'x' }, bearer(token))
    assert.equal(missing.status, 400)
  })

  it('honours the metadata[].type filter', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const res = await post(
      sim,
      `${V2}/metadata/search`,
      { metadata: [{ type: 'LIVEBOARD' }] },
      bearer(token),
    )
    const found = (await res.json()) as { metadata_type: string; metadata_header: object }[]
    assert.ok(found.length >= 1)
    assert.ok(found.every((item) => item.metadata_type === 'LIVEBOARD'))
    const bad = await post(
      sim,
      `${V2}/metadata/search`,
      { metadata: [{ type: 'X' }] },
      bearer(token),
    )
    assert.equal(bad.status, 400)
  })

  it('returns reports as binary octet-stream ≥ 64 KiB, the same each time', async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const request = { metadata_identifier: CATALOGUE[2]!.id, file_format: 'CSV' }
    const res = await post(sim, `${V2}/report/answer`, request, bearer(token))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/octet-stream')
    const bytes = Buffer.from(await res.arrayBuffer())
    assert.ok(bytes.length >= 64 * 1024)
    assert.equal(new Set(bytes).size, 256, 'every byte value 0-255 appears')
    const again = await post(sim, `${V2}/report/answer`, request, bearer(token))
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(bytes))
    const liveboard = await post(sim, `${V2}/report/liveboard`, {}, bearer(token))
    assert.equal(liveboard.status, 400)
  })
})
