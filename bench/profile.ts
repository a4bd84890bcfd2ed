/**
 * `--profile`: the BFF under `node --cpu-prof` for the proxied-bearer row (warm-up, then a
 * measured run), stopped so the profile is written, then summarised by bench/cpuprofile.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { profileMarkdown, readProfile, summariseProfile } from './cpuprofile.js'
import type { LoadGenerator } from './load.js'
import type { Options } from './options.js'
import type { RunInfo } from './report.js'
import { proxiedBearerRow } from './scenarios.js'
import { probe, say } from './sections.js'
import { ROOT, startBff, startRedis, startUpstream, type BenchContext } from './stack.js'

/** Runs the profile, prints it and writes bench/results/profile.md; false if a request failed. */
export async function profile(
  ctx: BenchContext,
  load: LoadGenerator,
  options: Options,
  info: RunInfo,
): Promise<boolean> {
  const upstream = await startUpstream(ctx)
  const dir = join(ctx.dir, 'cpuprofile')
  const redis = options.profileRedis ? await startRedis() : undefined
  if (redis && 'skipped' in redis) throw new Error(`--profile-redis: ${redis.skipped}`)
  const bff = await startBff(ctx, {
    name: 'bff-profile',
    kind: 'throughput',
    upstream,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    ...(redis ? { redisUrl: redis.url } : {}),
  })
  const jwt = await ctx.sign('bench-user')
  const row = proxiedBearerRow(bff, jwt)
  await probe(row)
  say(`profiling ${row.id}: ${options.warmupSeconds + 2} s warm-up, ${options.seconds} s measured…`)
  const warm = await load.run(row.spec, options.connections, options.warmupSeconds + 2)
  const measured = await load.run(row.spec, options.connections, options.seconds)
  await bff.child.stop()
  if (redis) await redis.child.stop()
  const summary = summariseProfile(readProfile(dir))
  const text = [
    `# thoughtspot-bff CPU profile: proxied POST searchdata, bearer app JWT${redis ? ', REDIS_URL' : ''}`,
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
  const results = join(ROOT, 'bench/results')
  mkdirSync(results, { recursive: true })
  writeFileSync(join(results, 'profile.md'), `${text}\n`)
  say('written to bench/results/profile.md')
  return measured.non2xx === 0 && measured.errors === 0
}
