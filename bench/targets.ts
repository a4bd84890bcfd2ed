/**
 * The performance targets, each judged met / not met (or not measured, with why) from one run.
 */
import { fixed, ratio, type Summary } from './markdown.js'
import type { MemoryResult } from './memory.js'
import type { Report } from './report.js'
import type { StormResult } from './storms.js'

/** One target line of the report. */
export interface Target {
  name: string
  verdict: 'met' | 'not met' | 'not measured'
  measured: string
}

const verdict = (ok: boolean): Target['verdict'] => (ok ? 'met' : 'not met')

function rowTargets(by: Map<string, Summary>, skipped: readonly string[]): Target[] {
  const bff = by.get('bff-bearer')
  const naive = by.get('naive')
  const bare = by.get('bare')
  const token = by.get('bff-token')
  const redis = by.get('redis-bearer')
  const out: Target[] = []
  const rate = (name: string, x?: Summary, y?: Summary, min = 1): void => {
    const r = ratio(x?.rps, y?.rps)
    out.push({
      name,
      verdict: Number.isFinite(r) ? verdict(r >= min) : 'not measured',
      measured: Number.isFinite(r)
        ? `${r.toFixed(2)}× (${fixed(x?.rps ?? NaN)} vs ${fixed(y?.rps ?? NaN)} req/s)`
        : '–',
    })
  }
  rate('BFF proxied (bearer) ≥ 1.0× naive stack req/s', bff, naive, 1)
  rate('stretch: BFF proxied (bearer) ≥ 0.5× bare proxy req/s', bff, bare, 0.5)
  const p99 = 'BFF proxied p99 ≤ naive stack p99'
  out.push(
    bff && naive
      ? {
          name: p99,
          verdict: verdict(bff.p99Ms <= naive.p99Ms),
          measured: `${fixed(ratio(bff.p99Ms, naive.p99Ms), 2)}× (${fixed(bff.p99Ms, 2)} vs ${fixed(naive.p99Ms, 2)} ms)`,
        }
      : { name: p99, verdict: 'not measured', measured: '–' },
  )
  rate('cached /ts/auth/token ≥ 2× BFF proxied req/s', token, bff, 2)
  if (redis) rate('Redis: BFF proxied ≥ 0.7× the memory variant', redis, bff, 0.7)
  else {
    const why = skipped.find((s) => s.startsWith('Redis throughput')) ?? 'Redis rows not run'
    out.push({
      name: 'Redis: BFF proxied ≥ 0.7× the memory variant',
      verdict: 'not measured',
      measured: why,
    })
  }
  return out
}

function stormTargets(storms: readonly StormResult[], budget: number): Target[] {
  return storms.flatMap((s) => [
    {
      name: `${s.name}: exactly ${s.expectedMints} mint${s.expectedMints === 1 ? '' : 's'}`,
      verdict: verdict(s.mints === s.expectedMints),
      measured: `${s.mints} mints`,
    },
    ...(s.expectedMints > 1
      ? [
          {
            name: `${s.name}: upstream ≤ ${budget} calls in any 1 s`,
            verdict: verdict(s.maxPerSecond <= budget),
            measured: `${s.maxPerSecond} in the busiest sliding second (${(s.maxPerSecond / budget).toFixed(2)}× budget)`,
          },
        ]
      : []),
  ])
}

function memoryTargets(memory: readonly MemoryResult[], users: number): Target[] {
  const name = `${users.toLocaleString('en-US')} users' sessions and tokens ≤ 300 MB RSS`
  const fill = memory.find((m) => m.name.includes('users'))
  if (!fill) return [{ name, verdict: 'not measured', measured: '–' }]
  const mb = (fill.rssAfterMiB * 2 ** 20) / 1e6
  if (fill.count < users) {
    return [
      {
        name,
        verdict: 'not measured',
        measured: `only ${fill.count} users filled (${fixed(mb)} MB RSS)`,
      },
    ]
  }
  return [
    {
      name,
      verdict: verdict(mb <= 300),
      measured: `${fixed(mb)} MB (${fixed(mb / 300, 2)}× the target)`,
    },
  ]
}

/** Every target, from the rows' medians, the storms and the memory fills. */
export function allTargets(report: Report, by: Map<string, Summary>): Target[] {
  return [
    ...rowTargets(by, report.skipped),
    ...stormTargets(report.storms, report.upstreamBudget),
    ...memoryTargets(report.memory, report.memoryTargetUsers),
  ]
}
