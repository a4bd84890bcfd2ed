/**
 * REST v2 data endpoints a front end uses through the BFF: search data,
 * metadata search, liveboard/answer data and report exports. All need a live token or session;
 * an object-scoped token may only name its own object.
 */
import {
  CATALOGUE,
  columnsOf,
  fakeTable,
  findObject,
  metadataHeader,
  reportBytes,
  seedOf,
  type Table,
} from './fake-data.js'
import { asObject, asString, optArray, optEnum, optInt, optObject, reqString } from './fields.js'
import { jsonBody, json, V2, type Answer, type Context, type Route } from './http.js'
import { authenticate, checkObjectAccess, type Principal } from './principal.js'
import { pageOf, salesSearch, salesViz } from './sales-data.js'
import { stableGuid } from './state.js'

type Body = Record<string, unknown>

const METADATA_TYPES = [
  'LIVEBOARD',
  'ANSWER',
  'LOGICAL_TABLE',
  'LOGICAL_COLUMN',
  'LOGICAL_RELATIONSHIP',
  'CONNECTION',
  'TAG',
  'USER',
  'USER_GROUP',
] as const
const FILE_FORMATS = ['CSV', 'PDF', 'XLSX', 'PNG'] as const
const DATA_FORMATS = ['COMPACT', 'FULL'] as const

interface Paging {
  offset: number
  size: number
  full: boolean
}

function readPaging(body: Body, defaultSize: number): Paging {
  optObject(body, 'runtime_filter')
  optObject(body, 'runtime_sort')
  optObject(body, 'runtime_param_override')
  return {
    offset: optInt(body, 'record_offset', 0) ?? 0,
    size: optInt(body, 'record_size', -1) ?? defaultSize,
    full: optEnum(body, 'data_format', DATA_FORMATS) === 'FULL',
  }
}

/** The `contents[]` item ThoughtSpot returns for tabular data. */
function contentsOf(table: Table, paging: Paging) {
  const rows = paging.full
    ? table.rows.map((row) => Object.fromEntries(table.columnNames.map((c, i) => [c, row[i]])))
    : table.rows
  return {
    column_names: table.columnNames,
    data_rows: rows,
    record_offset: table.offset,
    record_size: paging.size,
    returned_data_row_count: table.rows.length,
    available_data_row_count: table.total,
    sampling_ratio: 1,
  }
}

function searchData(ctx: Context): Answer {
  const principal = authenticate(ctx)
  const body = jsonBody(ctx)
  const table = reqString(body, 'logical_table_identifier')
  const query = reqString(body, 'query_string')
  const paging = readPaging(body, 10)
  checkObjectAccess(principal, table)
  const columns = columnsOf(query)
  const sales = salesSearch(ctx, principal, table, columns)
  const data = sales
    ? pageOf(sales, paging.offset, paging.size)
    : fakeTable(columns, seedOf(table, query), paging.offset, paging.size)
  return json({ contents: [contentsOf(data, paging)] })
}

interface MetadataFilter {
  type: string | undefined
  identifier: string | undefined
  namePattern: RegExp | undefined
}

function readMetadataFilter(value: unknown, where: string): MetadataFilter {
  const item = asObject(value, where)
  const pattern = item.name_pattern
  return {
    type: optEnum(item, 'type', METADATA_TYPES),
    identifier:
      item.identifier == null ? undefined : asString(item.identifier, `${where}.identifier`),
    namePattern:
      pattern == null ? undefined : likePattern(asString(pattern, `${where}.name_pattern`)),
  }
}

/** ThoughtSpot's name patterns use SQL LIKE's `%`, case-insensitively. */
function likePattern(pattern: string): RegExp {
  const escaped = pattern.split('%').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${escaped.join('.*')}$`, 'i')
}

function matchesFilter(item: (typeof CATALOGUE)[number], filter: MetadataFilter): boolean {
  if (filter.type !== undefined && filter.type !== item.type) return false
  if (filter.identifier !== undefined && ![item.id, item.name].includes(filter.identifier)) {
    return false
  }
  return filter.namePattern === undefined || filter.namePattern.test(item.name)
}

function metadataSearch(ctx: Context): Answer {
  const principal = authenticate(ctx)
  const body = jsonBody(ctx)
  const filters = optArray(body, 'metadata', readMetadataFilter) ?? []
  const paging = readPaging(body, 10)
  for (const filter of filters) checkObjectAccess(principal, filter.identifier)
  const visible = CATALOGUE.filter(
    (item) =>
      (principal.accessType === 'FULL' || item.id === principal.objectId) &&
      (filters.length === 0 || filters.some((filter) => matchesFilter(item, filter))),
  )
  const end = paging.size < 0 ? visible.length : paging.offset + paging.size
  return json(visible.slice(paging.offset, end).map(metadataHeader))
}

/** The object a data or report call names, after the object-scope check. */
function namedObject(principal: Principal, body: Body): { id: string; name: string } {
  const identifier = reqString(body, 'metadata_identifier')
  checkObjectAccess(principal, identifier)
  const known = findObject(identifier)
  return known ? { id: known.id, name: known.name } : { id: identifier, name: identifier }
}

function liveboardData(ctx: Context): Answer {
  const principal = authenticate(ctx)
  const body = jsonBody(ctx)
  const object = namedObject(principal, body)
  const vizIds = optArray(body, 'visualization_identifiers', (v, where) => asString(v, where)) ?? [
    stableGuid('viz', `${object.id}:1`),
    stableGuid('viz', `${object.id}:2`),
  ]
  const paging = readPaging(body, -1)
  const contents = vizIds.map((vizId, index) => {
    const viz = salesViz(ctx, principal, object.id, vizId)
    const table = viz
      ? pageOf(viz.table, paging.offset, paging.size)
      : fakeTable(columnsOf(''), seedOf(object.id, vizId), paging.offset, paging.size)
    return {
      visualization_id: vizId,
      visualization_name: viz?.name ?? `Visualization ${index + 1}`,
      ...contentsOf(table, paging),
    }
  })
  return json({
    metadata_id: object.id,
    metadata_name: object.name,
    metadata_type: 'LIVEBOARD',
    contents,
  })
}

function answerData(ctx: Context): Answer {
  const principal = authenticate(ctx)
  const body = jsonBody(ctx)
  const object = namedObject(principal, body)
  const paging = readPaging(body, -1)
  const table = fakeTable(columnsOf(''), seedOf(object.id), paging.offset, paging.size)
  return json({
    metadata_id: object.id,
    metadata_name: object.name,
    metadata_type: 'ANSWER',
    contents: [contentsOf(table, paging)],
  })
}

function report(ctx: Context, kind: 'liveboard' | 'answer'): Answer {
  const principal = authenticate(ctx)
  const body = jsonBody(ctx)
  const object = namedObject(principal, body)
  const format =
    optEnum(body, 'file_format', FILE_FORMATS) ?? (kind === 'liveboard' ? 'PDF' : 'CSV')
  optArray(body, 'visualization_identifiers', (v, where) => asString(v, where))
  optObject(body, 'pdf_options')
  optObject(body, 'png_options')
  return {
    status: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body: reportBytes(seedOf(kind, object.id, format)),
    chunked: true,
  }
}

/** The v2 data routes, for the server's route table. */
export const dataRoutes: Route[] = [
  { method: 'POST', path: `${V2}/searchdata`, handle: searchData },
  { method: 'POST', path: `${V2}/metadata/search`, handle: metadataSearch },
  { method: 'POST', path: `${V2}/metadata/liveboard/data`, handle: liveboardData },
  { method: 'POST', path: `${V2}/metadata/answer/data`, handle: answerData },
  { method: 'POST', path: `${V2}/report/liveboard`, handle: (ctx) => report(ctx, 'liveboard') },
  { method: 'POST', path: `${V2}/report/answer`, handle: (ctx) => report(ctx, 'answer') },
]
