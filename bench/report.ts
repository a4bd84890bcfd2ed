/**
 * The Markdown report: the run's conditions, the throughput table (medians over rounds), the
 * ratios against each baseline, the performance targets as met / not met with the measured ratio,
 * the storms and the memory figures.
 */
import { summarise, type RowResult } from './measure.js'
import { fixed, ratio, table, type Summary } from './markdown.js'
import { allTargets } from './targets.js'
import type { MemoryResult } from './memory.js'
import type { StormResult } from './storms.js'

/** The conditions of a run, printed above the tables. */
export interface RunInfo {
  command: string
  startedAt: string
  machine: string
  loadGenerator: string
  pinning: string
  settings: string
  loadAverage: string
}

/** Everything a run found, for `renderReport`. */
export interface Report {
  info: RunInfo
  rows: RowResult[]
  storms: StormResult[]
  memory: MemoryResult[]
  /** Sections or rows not run, with why. */
  skipped: string[]
  problems: string[]
  upstreamBudget: number
  /** The users count the 300 MB target is stated for. */
  memoryTargetUsers: number
}

function throughputTable(rows: readonly RowResult[]): string {
  return table(
    [
      '<row',
      '<through',
      '<route',
      'req/s',
      'req/s min–max',
      'p50 ms',
      'p99 ms',
      'CPU µs/req',
      'RSS MiB',
    ],
    rows.map(({ row, samples }) => {
      const s = summarise(samples)
      return [
        `\`${row.id}\``,
        row.target,
        row.route,
        fixed(s.rps),
        `${fixed(s.minRps)}–${fixed(s.maxRps)}`,
        fixed(s.p50Ms, 2),
        fixed(s.p99Ms, 2),
        fixed(s.cpuUsPerRequest),
        fixed(s.rssMiB),
      ]
    }),
  )
}

function ratiosTable(by: Map<string, Summary>): string {
  const pairs: Array<[string, string, string]> = [
    ['BFF bearer ÷ upstream direct', 'bff-bearer', 'direct'],
    ['BFF bearer ÷ bare proxy', 'bff-bearer', 'bare'],
    ['BFF bearer ÷ naive stack', 'bff-bearer', 'naive'],
    ['BFF cookie ÷ naive stack', 'bff-cookie', 'naive'],
    ['BFF cookie ÷ BFF bearer', 'bff-cookie', 'bff-bearer'],
    ['BFF cached token ÷ BFF bearer proxied', 'bff-token', 'bff-bearer'],
    ['BFF bearer 20 KB ÷ bare proxy 20 KB', 'bff-bearer-20k', 'bare-20k'],
    ['BFF bearer 20 KB ÷ naive stack 20 KB', 'bff-bearer-20k', 'naive-20k'],
    ['BFF Redis bearer ÷ BFF memory bearer', 'redis-bearer', 'bff-bearer'],
    ['BFF Redis cookie ÷ BFF memory cookie', 'redis-cookie', 'bff-cookie'],
    ['BFF Redis token ÷ BFF memory token', 'redis-token', 'bff-token'],
  ]
  const rows = pairs
    .filter(([, a, b]) => by.has(a) && by.has(b))
    .map(([label, a, b]) => {
      const x = by.get(a) as Summary
      const y = by.get(b) as Summary
      return [
        label,
        `${fixed(ratio(x.rps, y.rps), 2)}×`,
        `${fixed(ratio(x.cpuUsPerRequest, y.cpuUsPerRequest), 2)}×`,
        `${fixed(ratio(x.p99Ms, y.p99Ms), 2)}×`,
      ]
    })
  return table(['<ratio', 'req/s', 'CPU µs/req', 'p99'], rows)
}

function stormTable(storms: readonly StormResult[], budget: number): string {
  return table(
    [
      '<storm',
      'first requests',
      'replicas',
      'mints (expected)',
      'max upstream calls in 1 s',
      'max in flight',
      'all served after s',
      '429s retried',
      'conn. errors retried',
    ],
    storms.map((s) => [
      s.name,
      String(s.requests),
      String(s.replicas),
      `${s.mints} (${s.expectedMints})`,
      `${s.maxPerSecond} (budget ${budget}/s)`,
      String(s.maxInFlight),
      fixed(s.seconds, 2),
      String(s.retried429),
      String(s.retriedErrors),
    ]),
  )
}

function memoryTable(memory: readonly MemoryResult[]): string {
  const heap = (m: number | null): string => (m === null ? '–' : fixed(m))
  return table(
    [
      '<measure',
      'RSS before MiB',
      'RSS after MiB',
      'RSS growth',
      'heap used before → after MiB',
      'mints',
      'fill s',
    ],
    memory.map((m) => [
      m.count < m.wanted ? `${m.name} (time cap hit; ${m.wanted} wanted)` : m.name,
      fixed(m.rssBeforeMiB),
      fixed(m.rssAfterMiB),
      `+${fixed(m.rssAfterMiB - m.rssBeforeMiB)} MiB for ${m.count.toLocaleString('en-US')} ` +
        `(≈ ${fixed(m.growthMiB, 1)} MiB per ${m.per.toLocaleString('en-US')})`,
      `${heap(m.heapBeforeMiB)} → ${heap(m.heapAfterMiB)}`,
      String(m.mints),
      fixed(m.seconds, 1),
    ]),
  )
}

/** The whole report as Markdown. */
export function renderReport(report: Report): string {
  const by = new Map(report.rows.map((r) => [r.row.id, summarise(r.samples)]))
  const targets = allTargets(report, by)
  const { info } = report
  const out = [
    '# thoughtspot-bff benchmark',
    '',
    `- command: \`${info.command}\``,
    `- started: ${info.startedAt}; load average at start: ${info.loadAverage}`,
    `- machine: ${info.machine}`,
    `- load generator: ${info.loadGenerator}; ${info.pinning}`,
    `- settings: ${info.settings}`,
    '',
  ]
  if (report.rows.length > 0) {
    out.push('## Throughput (medians over rounds)', '', throughputTable(report.rows), '')
    out.push('## Ratios', '', ratiosTable(by), '')
  }
  out.push('## Targets (issue 10)', '')
  out.push(
    table(
      ['<target', '<result', '<measured'],
      targets.map((t) => [t.name, `**${t.verdict}**`, t.measured]),
    ),
  )
  out.push('')
  if (report.storms.length > 0)
    out.push('## Storms', '', stormTable(report.storms, report.upstreamBudget), '')
  if (report.memory.length > 0) {
    out.push('## Memory', '', memoryTable(report.memory), '')
    out.push(
      'RSS and heap are read 1 s after each fill, without forcing a GC: both include garbage not yet',
      'collected, and per-user rate-limit records that expire a minute later.',
      '',
    )
  }
  if (report.skipped.length > 0)
    out.push('## Skipped', '', ...report.skipped.map((s) => `- ${s}`), '')
  if (report.problems.length > 0)
    out.push(
      '## Harness problems (the run failed)',
      '',
      ...report.problems.map((p) => `- ${p}`),
      '',
    )
  return out.join('\n')
}
