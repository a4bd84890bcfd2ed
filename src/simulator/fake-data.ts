/**
 * Deterministic fake content: a small metadata catalogue, table rows seeded by the request, and
 * binary report files. The same request always yields the same bytes, so tests can compare what
 * went through a proxy with what the simulator produced.
 */
import { createHash } from 'node:crypto'
import { stableGuid } from './state.js'

/** The object types the fake catalogue holds. */
export type CatalogueType = 'LIVEBOARD' | 'ANSWER' | 'LOGICAL_TABLE'

/** One object of the fake catalogue. */
export interface CatalogueEntry {
  id: string
  name: string
  type: CatalogueType
  description: string
}

function entry(type: CatalogueType, name: string, description: string): CatalogueEntry {
  return { id: stableGuid(type, name), name, type, description }
}

/** The objects `metadata/search` knows; exported so tests can name real identifiers. */
export const CATALOGUE: readonly CatalogueEntry[] = [
  entry('LIVEBOARD', 'Sales Overview', 'Revenue, orders and margin by month'),
  entry('LIVEBOARD', 'Regional Performance', 'Sales by region and store'),
  entry('ANSWER', 'Top Customers', 'The 20 customers with the highest revenue'),
  entry('ANSWER', 'Monthly Revenue', 'Revenue per month for the last two years'),
  entry('LOGICAL_TABLE', 'Retail Sales', 'Worksheet over the retail fact table'),
  entry('LOGICAL_TABLE', 'Customers', 'Customer dimension'),
]

/** Fixed timestamps keep headers deterministic (2024-01-15 and 2024-06-01, UTC). */
const CREATED_MS = 1_705_276_800_000
const MODIFIED_MS = 1_717_200_000_000
const AUTHOR_ID = stableGuid('USER', 'tsadmin')

/** A catalogue object by GUID or by name. */
export function findObject(identifier: string): CatalogueEntry | undefined {
  return CATALOGUE.find((item) => item.id === identifier || item.name === identifier)
}

/** The `metadata/search` item for one object. */
export function metadataHeader(item: CatalogueEntry) {
  return {
    metadata_id: item.id,
    metadata_name: item.name,
    metadata_type: item.type,
    metadata_header: {
      id: item.id,
      name: item.name,
      description: item.description,
      author: AUTHOR_ID,
      authorName: 'tsadmin',
      authorDisplayName: 'Administrator',
      created: CREATED_MS,
      modified: MODIFIED_MS,
      isDeleted: false,
      isHidden: false,
      tags: [],
    },
  }
}

/** A 32-bit seed from any text. */
export function seedOf(...parts: string[]): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0)
}

/** mulberry32: tiny, fast, and identical on every platform. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** One page of fake rows, with the total the paging is over. */
export interface Table {
  columnNames: string[]
  rows: (string | number)[][]
  total: number
  offset: number
}

/** Column names from a search query's `[Column]` tokens; two defaults when it names none. */
export function columnsOf(queryString: string): string[] {
  const names = [...queryString.matchAll(/\[([^\]]{1,100})\]/g)].map((match) => match[1] ?? '')
  const unique = [...new Set(names.filter((name) => name.length > 0))].slice(0, 10)
  return unique.length > 0 ? unique : ['Region', 'Total Sales']
}

/**
 * One page of rows. The first column is text, the others numbers; `size` < 0 means all rows.
 * The total row count depends only on the seed, so paging is consistent.
 */
export function fakeTable(
  columnNames: string[],
  seed: number,
  offset: number,
  size: number,
): Table {
  const total = 20 + (seed % 40)
  const start = Math.min(offset, total)
  const end = size < 0 ? total : Math.min(total, start + size)
  const rows: (string | number)[][] = []
  for (let index = start; index < end; index += 1) {
    const random = randomSource(seed + index)
    rows.push(
      columnNames.map((name, column) =>
        column === 0 ? `${name} ${index + 1}` : Math.round(random() * 1_000_000) / 100,
      ),
    )
  }
  return { columnNames, rows, total, offset: start }
}

/** The size of every report file: above 64 KiB so byte-identity through a proxy means something. */
export const REPORT_SIZE = 96 * 1024

/** A report file: every byte value 0–255 first, then seeded noise. */
export function reportBytes(seed: number): Buffer {
  const bytes = Buffer.alloc(REPORT_SIZE)
  for (let value = 0; value < 256; value += 1) bytes[value] = value
  const random = randomSource(seed)
  for (let index = 256; index < REPORT_SIZE; index += 4) {
    bytes.writeUInt32BE(Math.floor(random() * 4_294_967_296), index)
  }
  return bytes
}
