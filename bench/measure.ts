/**
 * Interleaved rounds (A B C A B C …): each round warms a row up, then measures it while reading
 * the process under test's CPU time and RSS from /proc around the load generator's window and
 * the upstream's counters after it. Medians over the rounds are what the report shows.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { LoadGenerator } from './load.js'
import { cpuMicros, rssMiB } from './procstat.js'
import type { Row } from './scenarios.js'
import type { Upstream } from './stack.js'

/** One measured run of one row. */
export interface Sample {
  rps: number
  p50Ms: number
  p99Ms: number
  cpuUsPerRequest: number
  rssMiB: number
  requests: number
}

/** A row and its samples, one per round. */
export interface RowResult {
  row: Row
  samples: Sample[]
}

/** Rounds, durations and connections of the throughput section. */
export interface MeasureOptions {
  rounds: number
  seconds: number
  /** Unmeasured load before each measured run (0: none). */
  warmupSeconds: number
  /** Extra unmeasured load before a row's first measured run (JIT, pools, caches). */
  firstWarmupSeconds: number
  connections: number
  /** Called before each measured run, e.g. to print progress. */
  onRun?: (row: Row, round: number) => void
}

/** Checks what a measured window did; returns the harness problems found (empty: fine). */
function check(
  row: Row,
  sample: Sample,
  non2xx: number,
  errors: number,
  calls: CallsSeen,
): string[] {
  const problems: string[] = []
  if (non2xx > 0) problems.push(`${row.id}: ${non2xx} answers were not 2xx`)
  if (errors > 0) problems.push(`${row.id}: ${errors} socket errors or timeouts`)
  if (calls.mints > 0) problems.push(`${row.id}: ${calls.mints} mints with a cached token`)
  if (calls.unauthorized > 0)
    problems.push(`${row.id}: upstream refused ${calls.unauthorized} tokens`)
  if (row.upstreamRoute !== null && calls.data < sample.requests)
    problems.push(`${row.id}: ${sample.requests} answers but ${calls.data} upstream data calls`)
  if (row.upstreamRoute === null && calls.data > 0)
    problems.push(`${row.id}: ${calls.data} upstream data calls, none expected`)
  return problems
}

interface CallsSeen {
  mints: number
  unauthorized: number
  data: number
}

async function measureOnce(
  row: Row,
  load: LoadGenerator,
  upstream: Upstream,
  options: MeasureOptions,
  warmupSeconds: number,
): Promise<{ sample: Sample; problems: string[] }> {
  if (warmupSeconds > 0) await load.run(row.spec, options.connections, warmupSeconds)
  // Calls still in flight when the previous run stopped land now, not in this row's counters.
  await delay(250)
  await upstream.reset()
  const pid = row.process.pid
  const cpuBefore = cpuMicros(pid)
  const result = await load.run(row.spec, options.connections, options.seconds)
  const cpu = cpuMicros(pid) - cpuBefore
  const rss = rssMiB(pid)
  const stats = await upstream.stats()
  const sample: Sample = {
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    cpuUsPerRequest: result.requests > 0 ? cpu / result.requests : NaN,
    rssMiB: rss,
    requests: result.requests,
  }
  const calls: CallsSeen = {
    mints: stats.mints,
    unauthorized: stats.unauthorized,
    data:
      row.upstreamRoute === null
        ? (stats.calls.searchdata ?? 0) + (stats.calls['metadata/search'] ?? 0)
        : (stats.calls[row.upstreamRoute.replace('/api/rest/2.0/', '')] ?? 0),
  }
  return { sample, problems: check(row, sample, result.non2xx, result.errors, calls) }
}

/** Runs every row `rounds` times, interleaved; collects samples and harness problems. */
export async function measureRows(
  rows: readonly Row[],
  load: LoadGenerator,
  upstream: Upstream,
  options: MeasureOptions,
): Promise<{ results: RowResult[]; problems: string[] }> {
  const results = rows.map((row) => ({ row, samples: [] as Sample[] }))
  const problems: string[] = []
  for (let round = 1; round <= options.rounds; round++) {
    for (const result of results) {
      options.onRun?.(result.row, round)
      const warmup =
        round === 1 ? options.warmupSeconds + options.firstWarmupSeconds : options.warmupSeconds
      const once = await measureOnce(result.row, load, upstream, options, warmup)
      result.samples.push(once.sample)
      problems.push(...once.problems)
    }
  }
  return { results, problems }
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Medians of every field of a row's samples. */
export function summarise(samples: readonly Sample[]): Sample & { minRps: number; maxRps: number } {
  const of = (pick: (s: Sample) => number): number => median(samples.map(pick))
  const rps = samples.map((s) => s.rps)
  return {
    rps: of((s) => s.rps),
    p50Ms: of((s) => s.p50Ms),
    p99Ms: of((s) => s.p99Ms),
    cpuUsPerRequest: of((s) => s.cpuUsPerRequest),
    rssMiB: of((s) => s.rssMiB),
    requests: of((s) => s.requests),
    minRps: Math.min(...rps),
    maxRps: Math.max(...rps),
  }
}
