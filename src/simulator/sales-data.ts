/**
 * The dataset behind the "Sales Overview" liveboard and the "Retail Sales" worksheet: sales by
 * region and month, different in every org, and seen through the caller's security the way
 * ThoughtSpot applies it — the row filters of its token (`filter_rules` of `auth/token/custom`)
 * and a Margin column that only members of `analysts` see (column-level security). So two users
 * asking the same question get their own answers. Other objects keep the generic fake tables.
 */
import { findObject, randomSource, seedOf, type Table } from './fake-data.js'
import { SimError, type Context } from './http.js'
import type { Principal } from './principal.js'
import { stableGuid, type FilterRule, type ScalarValue } from './state.js'

/** What decides which rows and columns a caller sees. */
export interface DataScope {
  orgId: number
  groups: readonly string[]
  filterRules: readonly FilterRule[]
}

/** The group whose members see the Margin column. */
export const MARGIN_GROUP = 'analysts'
/** The liveboard and worksheet this dataset answers for. */
export const SALES_LIVEBOARD = findObject('Sales Overview')
export const SALES_WORKSHEET = findObject('Retail Sales')

const PRIMARY_REGIONS = ['North', 'South', 'East', 'West', 'Central', 'Online']
const OTHER_REGIONS = ['EMEA', 'APAC', 'Americas', 'Nordics', 'Iberia', 'Benelux']
const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
].map((month) => `${month} 2024`)
const ATTRIBUTES = ['Region', 'Month'] as const
const MEASURES = ['Total Sales', 'Margin'] as const

interface Fact {
  Region: string
  Month: string
  'Total Sales': number
  Margin: number
}

/** The caller's data scope: org and token filters from the credential, groups from the user. */
export function dataScopeOf(ctx: Context, principal: Principal): DataScope {
  const token =
    principal.token ??
    (principal.session ? ctx.state.tokens.get(principal.session.sourceToken) : undefined)
  return {
    orgId: principal.orgId,
    groups: ctx.state.findUser(principal.userId)?.groups ?? [],
    filterRules: token?.filterRules ?? [],
  }
}

const round = (value: number): number => Math.round(value * 100) / 100

/** Every fact of the org, before any security. */
function factsOf(orgId: number): Fact[] {
  const regions = orgId === 0 ? PRIMARY_REGIONS : OTHER_REGIONS
  return regions.flatMap((region) =>
    MONTHS.map((month) => {
      const random = randomSource(seedOf('sales', String(orgId), region, month))
      const sales = round(20_000 + random() * 80_000)
      return {
        Region: region,
        Month: month,
        'Total Sales': sales,
        Margin: round(sales * (0.12 + random() * 0.2)),
      }
    }),
  )
}

function compare(cell: string, value: ScalarValue | undefined): number {
  return cell.localeCompare(String(value ?? ''))
}

/** Whether a row passes one filter rule; rules on columns the dataset lacks filter nothing. */
function passes(fact: Fact, rule: FilterRule): boolean {
  const column = ATTRIBUTES.find((name) => name.toLowerCase() === rule.column_name.toLowerCase())
  if (!column) return true
  const cell = fact[column]
  const values = rule.values.map(String)
  const [first, second] = rule.values
  switch (rule.operator) {
    case 'EQ':
    case 'IN':
      return values.includes(cell)
    case 'NE':
    case 'NOT_IN':
      return !values.includes(cell)
    case 'CONTAINS':
      return values.some((value) => cell.includes(value))
    case 'BEGINS_WITH':
      return values.some((value) => cell.startsWith(value))
    case 'ENDS_WITH':
      return values.some((value) => cell.endsWith(value))
    case 'LIKE':
      return values.some((value) => likeRegex(value).test(cell))
    case 'LT':
      return compare(cell, first) < 0
    case 'LE':
      return compare(cell, first) <= 0
    case 'GT':
      return compare(cell, first) > 0
    case 'GE':
      return compare(cell, first) >= 0
    case 'BW':
      return compare(cell, first) > 0 && compare(cell, second) < 0
    case 'BW_INC':
      return compare(cell, first) >= 0 && compare(cell, second) <= 0
    case 'BW_INC_MIN':
      return compare(cell, first) >= 0 && compare(cell, second) < 0
    case 'BW_INC_MAX':
      return compare(cell, first) > 0 && compare(cell, second) <= 0
  }
}

function likeRegex(pattern: string): RegExp {
  const parts = pattern.split('%').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`^${parts.join('.*')}$`, 'i')
}

/** The columns the caller may see. */
export function visibleColumns(scope: DataScope): string[] {
  const margin = scope.groups.includes(MARGIN_GROUP)
  return [...ATTRIBUTES, ...MEASURES.filter((name) => name !== 'Margin' || margin)]
}

/**
 * The caller's answer to a search over `columns`: attribute columns group, measures add up.
 * Undefined when a column is not one the caller can see (the caller falls back or refuses).
 */
export function searchSales(columns: readonly string[], scope: DataScope): Table | undefined {
  const visible = visibleColumns(scope)
  if (columns.length === 0 || !columns.every((column) => visible.includes(column))) return undefined
  const attributes = columns.filter((column) => (ATTRIBUTES as readonly string[]).includes(column))
  const measures = columns.filter((column) => (MEASURES as readonly string[]).includes(column))
  const groups = new Map<string, (string | number)[]>()
  for (const fact of factsOf(scope.orgId)) {
    if (!scope.filterRules.every((rule) => passes(fact, rule))) continue
    const key = attributes.map((name) => fact[name as (typeof ATTRIBUTES)[number]]).join('\u0000')
    const row =
      groups.get(key) ??
      columns.map((name) =>
        attributes.includes(name) ? fact[name as (typeof ATTRIBUTES)[number]] : 0,
      )
    for (const name of measures) {
      const at = columns.indexOf(name)
      row[at] = round(Number(row[at]) + fact[name as (typeof MEASURES)[number]])
    }
    groups.set(key, row)
  }
  const rows = [...groups.values()]
  return { columnNames: [...columns], rows, total: rows.length, offset: 0 }
}

/** One page of a table (`size` < 0: to the end). */
export function pageOf(table: Table, offset: number, size: number): Table {
  const start = Math.min(offset, table.total)
  const end = size < 0 ? table.total : Math.min(table.total, start + size)
  return { ...table, rows: table.rows.slice(start, end), offset: start }
}

/** A visualization of the Sales Overview liveboard. */
export interface SalesViz {
  id: string
  name: string
  /** The question it answers, before column security. */
  columns: string[]
}

/** The two visualizations of the Sales Overview liveboard: a table and a chart. */
export const SALES_VIZZES: readonly SalesViz[] = SALES_LIVEBOARD
  ? [
      {
        id: stableGuid('viz', `${SALES_LIVEBOARD.id}:1`),
        name: 'Sales by region',
        columns: ['Region', 'Total Sales', 'Margin'],
      },
      {
        id: stableGuid('viz', `${SALES_LIVEBOARD.id}:2`),
        name: 'Monthly sales',
        columns: ['Month', 'Total Sales'],
      },
    ]
  : []

/**
 * A Sales Overview visualization as the caller sees it (columns it may not see are left out,
 * not refused); undefined for any other liveboard or visualization.
 */
export function salesViz(
  ctx: Context,
  principal: Principal,
  liveboardId: string,
  vizId: string,
): { name: string; table: Table } | undefined {
  const viz = SALES_VIZZES.find((each) => each.id === vizId)
  if (!viz || liveboardId !== SALES_LIVEBOARD?.id) return undefined
  const scope = dataScopeOf(ctx, principal)
  const visible = visibleColumns(scope)
  const table = searchSales(
    viz.columns.filter((column) => visible.includes(column)),
    scope,
  )
  return table && { name: viz.name, table }
}

/** The caller's answer from the Retail Sales worksheet; undefined for any other source. */
export function salesSearch(
  ctx: Context,
  principal: Principal,
  source: string,
  columns: readonly string[],
): Table | undefined {
  if (!SALES_WORKSHEET || ![SALES_WORKSHEET.id, SALES_WORKSHEET.name].includes(source)) {
    return undefined
  }
  // A question about other columns keeps the generic fake table.
  const known: readonly string[] = [...ATTRIBUTES, ...MEASURES]
  if (!columns.every((column) => known.includes(column))) return undefined
  const scope = dataScopeOf(ctx, principal)
  const visible = visibleColumns(scope)
  // Column-level security: a hidden column does not exist for this caller.
  if (!columns.every((column) => visible.includes(column))) {
    throw new SimError(400, 'The search names a column that is not in the worksheet')
  }
  return searchSales(columns, scope)
}
