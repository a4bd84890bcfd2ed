/**
 * REST v1 data calls: `pinboarddata` and `searchdata`. They are POSTs whose parameters travel in
 * the query string; a form body is not read.
 */
import { columnsOf, fakeTable, seedOf, type Table } from './fake-data.js'
import { json, V1, type Answer, type Context, type Route } from './http.js'
import { enumParam, intParam, jsonListParam, queryParams, reqParam, type Params } from './params.js'
import { authenticate, checkObjectAccess } from './principal.js'
import { pageOf, salesSearch, salesViz } from './sales-data.js'
import { stableGuid } from './state.js'

interface Paging {
  offset: number
  size: number
  full: boolean
}

function readPaging(params: Params): Paging {
  return {
    // v1 uses -1 for "from the start" and "all rows".
    offset: Math.max(0, intParam(params, 'offset', -1) ?? -1),
    size: intParam(params, 'batchsize', -1) ?? -1,
    full: enumParam(params, 'formattype', ['COMPACT', 'FULL']) === 'FULL',
  }
}

/** The v1 table shape (camelCase, unlike v2). */
function v1Table(table: Table, paging: Paging) {
  const data = paging.full
    ? table.rows.map((row) => Object.fromEntries(table.columnNames.map((c, i) => [c, row[i]])))
    : table.rows
  return {
    columnNames: table.columnNames,
    data,
    samplingRatio: 1,
    totalRowCount: table.total,
    rowCount: table.rows.length,
    pageSize: paging.size,
    offset: table.offset,
  }
}

function pinboardData(ctx: Context): Answer {
  const principal = authenticate(ctx)
  const params = queryParams(ctx.query)
  const id = reqParam(params, 'id')
  const vizIds = jsonListParam(params, 'vizid') ?? [
    stableGuid('viz', `${id}:1`),
    stableGuid('viz', `${id}:2`),
  ]
  const paging = readPaging(params)
  checkObjectAccess(principal, id)
  const result: Record<string, unknown> = {}
  vizIds.forEach((vizId, index) => {
    const viz = salesViz(ctx, principal, id, vizId)
    const table = viz
      ? pageOf(viz.table, paging.offset, paging.size)
      : fakeTable(columnsOf(''), seedOf(id, vizId), paging.offset, paging.size)
    result[vizId] = { name: viz?.name ?? `Visualization ${index + 1}`, ...v1Table(table, paging) }
  })
  return json(result)
}

function searchData(ctx: Context): Answer {
  const principal = authenticate(ctx)
  const params = queryParams(ctx.query)
  const query = reqParam(params, 'query_string')
  const source = reqParam(params, 'data_source_guid')
  const paging = readPaging(params)
  checkObjectAccess(principal, source)
  const columns = columnsOf(query)
  const sales = salesSearch(ctx, principal, source, columns)
  const table = sales
    ? pageOf(sales, paging.offset, paging.size)
    : fakeTable(columns, seedOf(source, query), paging.offset, paging.size)
  return json(v1Table(table, paging))
}

/** The v1 data routes, for the server's route table. */
export const dataV1Routes: Route[] = [
  { method: 'POST', path: `${V1}/tspublic/v1/pinboarddata`, handle: pinboardData },
  { method: 'POST', path: `${V1}/tspublic/v1/searchdata`, handle: searchData },
]
