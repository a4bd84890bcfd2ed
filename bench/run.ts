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
import { installCleanup, pinningPlan, pinSelf, StartError, stopAll } from './children.js'
import { call, closeDefaultAgent } from './http.js'
import { signMany } from './jwt.js'
import { pickLoadGenerator, type LoadGenerator } from './load.js'
import { measureRows } from './measure.js'
import { objectIdsFill, usersFill } from './memory.js'
import { parseOptions, USAGE, type Options } from './options.js'
import { procAvailable } from './procstat.js'
import { profileMarkdown, readProfile, summariseProfile } from './profile.js'
import { renderReport, type Report } from './report.js'
import { proxiedBearerRow, throughputRows, type Row } from './scenarios.js'
import {
  createContext,
  ROOT,
  startBaseline,
  startBff,
  startRedis,
  startUpstream,
  type BenchContext,
  type Bff,
  type Upstream,
} from './stack.js'
import { storm } from './storms.js'

const RESULTS = join(ROOT, 'bench/results')
const MEMORY_TARGET_USERS = 100_000
// Read before the bench pins itself to one CPU, which would make it report 1.
const NPROC = availableParallelism()

const say = (text: string): boolean => process.stderr.write(`bench: ${text}\n`)

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

/** One request of a row, before any load: a wrong setup fails here with the answer's body. */
async function probe(row: Row): Promise<void> {
  const reply = await call(row.spec.url, {
    method: row.spec.method,
    headers: row.spec.headers,
    ...(row.spec.body !== undefined ? { body: row.spec.body } : {}),
  })
  if (reply.status < 200 || reply.status > 299) {
    throw new Error(`${row.id}: probe answered ${reply.status} ${reply.body.slice(0, 300)}`)
  }
}

/** A Redis-backed BFF (or replicas), or the reason there is none today. */
async function redisBffs(
  ctx: BenchContext,
  upstream: Upstream,
  kind: 'throughput' | 'storm',
  count: number,
): Promise<Bff[] | string> {
  const redis = await startRedis()
  if ('skipped' in redis) return redis.skipped
  try {
    const bffs: Bff[] = []
    for (let i = 0; i < count; i++) {
      const name = `bff-redis-${kind}-${i + 1}`
      bffs.push(await startBff(ctx, { name, kind, upstream, redisUrl: redis.url }))
    }
    return bffs
  } catch (err) {
    await redis.child.stop()
    if (err instanceof StartError) return `the BFF refused to start with REDIS_URL (${err.detail})`
    throw err
  }
}

async function throughput(
  ctx: BenchContext,
  load: LoadGenerator,
  upstream: Upstream,
  options: Options,
  report: Report,
): Promise<void> {
  say('starting the baselines and the BFF…')
  const bare = await startBaseline(ctx, 'bare', upstream)
  const naive = await startBaseline(ctx, 'naive', upstream)
  const bff = await startBff(ctx, { name: 'bff', kind: 'throughput', upstream })
  const redis = await redisBffs(ctx, upstream, 'throughput', 1)
  if (typeof redis === 'string') report.skipped.push(`Redis throughput rows: ${redis}`)
  const redisBff = typeof redis === 'string' ? undefined : redis[0]

  const jwt = await ctx.sign('bench-user')
  const fixtures = {
    upstream,
    bare,
    naive,
    bff,
    tsToken: await upstream.mint('bench-direct'),
    jwt,
    cookie: await bff.login(jwt),
    ...(redisBff ? { redisBff, redisCookie: await redisBff.login(jwt) } : {}),
  }
  const rows = throughputRows(fixtures)
  // The token route first: it mints and caches the user's token that every proxied row reuses.
  for (const row of [...rows].sort(
    (a, b) => Number(b.upstreamRoute === null) - Number(a.upstreamRoute === null),
  ))
    await probe(row)

  const { results, problems } = await measureRows(rows, load, upstream, {
    ...options,
    onRun: (row, round) => say(`round ${round}/${options.rounds}: ${row.id}`),
  })
  report.rows = results
  report.problems.push(...problems)
  await Promise.all([bare, naive, bff, ...(redisBff ? [redisBff] : [])].map((t) => t.child.stop()))
}

async function storms(
  ctx: BenchContext,
  upstream: Upstream,
  options: Options,
  report: Report,
): Promise<void> {
  const run = async (label: string, bffs: Bff[], prefix: string): Promise<void> => {
    say(`storm (${label}): ${options.stormUsers} distinct users at once…`)
    const users = await signMany(ctx.sign, `${prefix}-user-`, options.stormUsers)
    const distinct = await storm(
      `${label}: ${options.stormUsers} distinct users`,
      bffs,
      upstream,
      users,
      users.length,
    )
    say(`storm (${label}): ${options.sameUser} × one user at once…`)
    const one = await ctx.sign(`${prefix}-one-user`)
    const same = Array.from({ length: options.sameUser }, () => one)
    const single = await storm(`${label}: ${options.sameUser} × one user`, bffs, upstream, same, 1)
    for (const s of [distinct, single]) {
      report.storms.push(s)
      if (s.mints !== s.expectedMints)
        report.problems.push(
          `${s.name}: ${s.mints} mints at the upstream, expected ${s.expectedMints}`,
        )
    }
    await Promise.all(bffs.map((b) => b.child.stop()))
  }
  const bff = await startBff(ctx, { name: 'bff-storm', kind: 'storm', upstream })
  await run('memory store, 1 replica', [bff], 'storm')
  const replicas = await redisBffs(ctx, upstream, 'storm', 2)
  if (typeof replicas === 'string') report.skipped.push(`Redis storms (2 replicas): ${replicas}`)
  else await run('Redis, 2 replicas', replicas, 'redis-storm')
}

async function memory(
  ctx: BenchContext,
  upstream: Upstream,
  options: Options,
  report: Report,
): Promise<void> {
  say(`memory: ${options.memoryUsers} users, each a session and a cached token…`)
  const bff = await startBff(ctx, { name: 'bff-memory', kind: 'memory', upstream, metrics: true })
  const users = await usersFill(
    ctx,
    bff,
    upstream,
    options.memoryUsers,
    options.memorySeconds,
    (n) => say(`memory: ${n} users`),
  )
  await bff.child.stop()
  say(`memory: ${options.objectIds} objectIds of one user…`)
  const bff2 = await startBff(ctx, { name: 'bff-objects', kind: 'memory', upstream, metrics: true })
  const objects = await objectIdsFill(
    ctx,
    bff2,
    upstream,
    options.objectIds,
    options.memorySeconds / 2,
  )
  await bff2.child.stop()
  for (const m of [users, objects]) {
    report.memory.push(m)
    if (m.mints !== m.count)
      report.problems.push(`memory (${m.name}): ${m.mints} mints, expected ${m.count}`)
  }
}

function machine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU'
  const gib = (totalmem() / 2 ** 30).toFixed(0)
  return `nproc ${NPROC} × ${model}, ${gib} GiB RAM, Linux ${release()}, Node ${process.version}`
}

function runInfo(options: Options, load: LoadGenerator, argv: readonly string[]): Report['info'] {
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
  argv: string[],
): Promise<boolean> {
  const upstream = await startUpstream(ctx)
  const report: Report = {
    info: runInfo(options, load, argv),
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
  const text = renderReport(report)
  process.stdout.write(`${text}\n`)
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, 'latest.md'), `${text}\n`)
  say('written to bench/results/latest.md')
  return report.problems.length === 0
}

async function profile(
  ctx: BenchContext,
  load: LoadGenerator,
  options: Options,
  argv: string[],
): Promise<boolean> {
  const upstream = await startUpstream(ctx)
  const dir = join(ctx.dir, 'cpuprofile')
  const bff = await startBff(ctx, {
    name: 'bff-profile',
    kind: 'throughput',
    upstream,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  })
  const jwt = await ctx.sign('bench-user')
  const row = proxiedBearerRow(bff, jwt)
  await probe(row)
  say(`profiling ${row.id}: ${options.warmupSeconds + 2} s warm-up, ${options.seconds} s measured…`)
  const warm = await load.run(row.spec, options.connections, options.warmupSeconds + 2)
  const measured = await load.run(row.spec, options.connections, options.seconds)
  await bff.child.stop()
  const summary = summariseProfile(readProfile(dir))
  const info = runInfo(options, load, argv)
  const text = [
    '# thoughtspot-bff CPU profile: proxied POST searchdata, bearer app JWT',
    '',
    `- command: \`${info.command}\`; ${info.startedAt}; ${info.machine}`,
    `- ${info.loadGenerator}, ${options.connections} connections; ${info.pinning}`,
    `- measured run: ${measured.rps.toFixed(0)} req/s, p50 ${measured.p50Ms.toFixed(2)} ms, p99 ${measured.p99Ms.toFixed(2)} ms` +
      ` (the profiler itself slows the process); the profile covers start-up, warm-up and run`,
    '',
    profileMarkdown(summary, warm.requests + measured.requests),
    '',
  ].join('\n')
  process.stdout.write(`${text}\n`)
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, 'profile.md'), `${text}\n`)
  say('written to bench/results/profile.md')
  return measured.non2xx === 0 && measured.errors === 0
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
  installCleanup()
  ensureBuilt(options.build)
  pinSelf()
  const ctx = createContext()
  try {
    const load = pickLoadGenerator(ctx.dir, options.loadgen)
    return (
      options.profile
        ? await profile(ctx, load, options, argv)
        : await bench(ctx, load, options, argv)
    )
      ? 0
      : 1
  } finally {
    await stopAll()
    closeDefaultAgent()
    if (options.keepLogs) say(`configs and logs kept in ${ctx.dir}`)
    else rmSync(ctx.dir, { recursive: true, force: true })
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
