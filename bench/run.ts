/**
 * `npm run bench [-- --quick | --profile | --help …]`: starts the upstream, the baselines and the
 * real BFF as child processes, measures them in interleaved rounds, runs the storms and memory
 * fills, prints the Markdown report and writes it to bench/results/latest.md. Exits 1 only when
 * the harness broke (a process did not start, wrong mint counts, unexpected non-2xx answers).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_UPSTREAM_RPS } from './bff-config.js'
import { installCleanup, interrupted, pinningPlan, pinSelf, stopAll } from './children.js'
import { closeDefaultAgent } from './http.js'
import { pickLoadGenerator, type LoadGenerator } from './load.js'
import { parseOptions, USAGE, type Options } from './options.js'
import { procAvailable } from './procstat.js'
import { profile } from './profile.js'
import { renderReport, type Report, type RunInfo } from './report.js'
import { memory, say, storms, throughput } from './sections.js'
import { createContext, ROOT, startUpstream, type BenchContext } from './stack.js'

const RESULTS = join(ROOT, 'bench/results')
const MEMORY_TARGET_USERS = 100_000
// Read before the bench pins itself to one CPU, which would make it report 1.
const NPROC = availableParallelism()

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** Builds dist/ when it is missing or older than src/, so the bench measures today's code. */
function ensureBuilt(build: boolean): void {
  const main = join(ROOT, 'dist/src/main.js')
  let builtAt = 0
  try {
    builtAt = statSync(main).mtimeMs
  } catch {
    // not built yet
  }
  if (builtAt >= newestMtime(join(ROOT, 'src'))) return
  if (!build) {
    if (builtAt === 0) throw new Error('dist/src/main.js is missing: run `npm run build` first')
    say('dist/ is older than src/ (--no-build given: measuring it anyway)')
    return
  }
  say('building dist/ (npm run build)…')
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
}

function machine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU'
  const gib = (totalmem() / 2 ** 30).toFixed(0)
  return `nproc ${NPROC} × ${model}, ${gib} GiB RAM, Linux ${release()}, Node ${process.version}`
}

function runInfo(options: Options, load: LoadGenerator, argv: readonly string[]): RunInfo {
  return {
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
    startedAt: new Date().toISOString(),
    machine: machine(),
    loadGenerator: `${load.name} ${load.version}${load.name === 'wrk' ? ' (1 thread)' : ''}`,
    pinning: pinningPlan().note,
    settings:
      `${options.rounds} round(s) × ${options.seconds} s per row (warm-up ${options.warmupSeconds} s, ` +
      `+${options.firstWarmupSeconds} s before a row's first run), ${options.connections} connections; ` +
      `storms ${options.stormUsers} users / ${options.sameUser} × one user at upstream budget ${DEFAULT_UPSTREAM_RPS}/s; ` +
      `memory ${options.memoryUsers} users / ${options.objectIds} objectIds (cap ${options.memorySeconds} s / ${options.memorySeconds / 2} s)`,
    loadAverage: loadavg()
      .map((n) => n.toFixed(2))
      .join(' '),
  }
}

async function bench(
  ctx: BenchContext,
  load: LoadGenerator,
  options: Options,
  info: RunInfo,
): Promise<boolean> {
  const upstream = await startUpstream(ctx)
  const report: Report = {
    info,
    rows: [],
    storms: [],
    memory: [],
    skipped: [],
    problems: [],
    upstreamBudget: DEFAULT_UPSTREAM_RPS,
    memoryTargetUsers: MEMORY_TARGET_USERS,
  }
  const sections = {
    throughput: () => throughput(ctx, load, upstream, options, report),
    storms: () => storms(ctx, upstream, options, report),
    memory: () => memory(ctx, upstream, options, report),
  }
  for (const section of options.sections) {
    try {
      await sections[section]()
    } catch (err) {
      report.problems.push(`${section}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  if (interrupted()) return false
  const text = renderReport(report)
  process.stdout.write(`${text}\n`)
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, 'latest.md'), `${text}\n`)
  say('written to bench/results/latest.md')
  return report.problems.length === 0
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2)
  let options: Options | null
  try {
    options = parseOptions(argv)
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`)
    return 2
  }
  if (options === null) {
    process.stdout.write(USAGE)
    return 0
  }
  if (!procAvailable())
    throw new Error('the bench reads CPU and memory from /proc: run it on Linux')
  ensureBuilt(options.build)
  pinSelf()
  const ctx = createContext()
  const keepLogs = options.keepLogs
  installCleanup(() => {
    if (!keepLogs) rmSync(ctx.dir, { recursive: true, force: true })
  })
  try {
    const load = pickLoadGenerator(ctx.dir, options.loadgen)
    const info = runInfo(options, load, argv)
    const ok = options.profile
      ? await profile(ctx, load, options, info)
      : await bench(ctx, load, options, info)
    return ok ? 0 : 1
  } finally {
    await stopAll()
    closeDefaultAgent()
    if (keepLogs) say(`configs and logs kept in ${ctx.dir}`)
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
