/**
 * The three sections of a run: throughput rows (interleaved rounds), storms and memory fills.
 * Each starts the processes it needs, records into the report and stops them again.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { StartError } from './children.js'
import { call } from './http.js'
import { signMany } from './jwt.js'
import type { LoadGenerator } from './load.js'
import { measureRows } from './measure.js'
import { objectIdsFill, usersFill } from './memory.js'
import type { Options } from './options.js'
import type { Report } from './report.js'
import { throughputRows, type Row } from './scenarios.js'
import {
  startBaseline,
  startBff,
  startRedis,
  type BenchContext,
  type Bff,
  type Upstream,
} from './stack.js'
import { storm } from './storms.js'

/** Progress on stderr (stdout carries only the report). */
export const say = (text: string): boolean => process.stderr.write(`bench: ${text}\n`)

/** One request of a row, before any load: a wrong setup fails here with the answer's body. */
export async function probe(row: Row): Promise<void> {
  const reply = await call(row.spec.url, {
    method: row.spec.method,
    headers: row.spec.headers,
    ...(row.spec.body !== undefined ? { body: row.spec.body } : {}),
  })
  if (reply.status < 200 || reply.status > 299) {
    throw new Error(`${row.id}: probe answered ${reply.status} ${reply.body.slice(0, 300)}`)
  }
}

interface RedisSetup {
  bffs: Bff[]
  /** Stops the BFFs and their redis-server. */
  stop(): Promise<void>
}

/** `count` BFF replicas sharing one fresh redis-server, or the reason there are none today. */
async function redisBffs(
  ctx: BenchContext,
  upstream: Upstream,
  kind: 'throughput' | 'storm',
  count: number,
): Promise<RedisSetup | string> {
  const redis = await startRedis()
  if ('skipped' in redis) return redis.skipped
  const bffs: Bff[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(bffs.map((bff) => bff.child.stop()))
    await redis.child.stop()
  }
  try {
    for (let i = 0; i < count; i++) {
      const name = `bff-redis-${kind}-${i + 1}`
      bffs.push(await startBff(ctx, { name, kind, upstream, redisUrl: redis.url }))
    }
    return { bffs, stop }
  } catch (err) {
    await stop()
    if (err instanceof StartError) return `the BFF refused to start with REDIS_URL (${err.detail})`
    throw err
  }
}

/** Starts the baselines and the BFF(s), measures every row in interleaved rounds. */
export async function throughput(
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
  const redisBff = typeof redis === 'string' ? undefined : redis.bffs[0]

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
  // The token routes first: they mint and cache the user's token that every proxied row reuses.
  const tokenRowsFirst = [...rows].sort(
    (a, b) => Number(b.upstreamRoute === null) - Number(a.upstreamRoute === null),
  )
  for (const row of tokenRowsFirst) await probe(row)

  const { results, problems } = await measureRows(rows, load, upstream, {
    ...options,
    onRun: (row, round) => say(`round ${round}/${options.rounds}: ${row.id}`),
  })
  report.rows = results
  report.problems.push(...problems)
  await Promise.all([bare, naive, bff].map((t) => t.child.stop()))
  if (typeof redis !== 'string') await redis.stop()
}

/** The login storms on one memory-store BFF, then on two Redis replicas when they start. */
export async function storms(
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
  }
  const bff = await startBff(ctx, { name: 'bff-storm', kind: 'storm', upstream })
  await run('memory store, 1 replica', [bff], 'storm')
  await bff.child.stop()
  const replicas = await redisBffs(ctx, upstream, 'storm', 2)
  if (typeof replicas === 'string') {
    report.skipped.push(`Redis storms (2 replicas): ${replicas}`)
    return
  }
  await run('Redis, 2 replicas', replicas.bffs, 'redis-storm')
  await replicas.stop()
}

/**
 * A fill whose BFF died (with a heap cap: out of memory) fails as a connection reset; say what
 * happened instead, with the last line the BFF wrote on stderr.
 */
async function explainExit(bff: Bff, capped: string, err: unknown): Promise<never> {
  const exited = await Promise.race([
    bff.child.exited.then(() => true),
    delay(1000).then(() => false),
  ])
  if (!exited) throw err
  const last = bff.child.stderr().trim().split('\n').filter(Boolean).slice(-2).join(' / ')
  throw new Error(`the BFF exited during the fill${capped}: ${last || 'no stderr'}`)
}

/** The users fill and the objectIds fill, each on a fresh BFF. */
export async function memory(
  ctx: BenchContext,
  upstream: Upstream,
  options: Options,
  report: Report,
): Promise<void> {
  const heap = options.memoryHeapMiB
  const nodeArgs = heap > 0 ? [`--max-old-space-size=${heap}`] : []
  const capped = heap > 0 ? ` (heap capped at ${heap} MiB)` : ''
  say(`memory: ${options.memoryUsers} users, each a session and a cached token${capped}…`)
  const bff = await startBff(ctx, {
    name: 'bff-memory',
    kind: 'memory',
    upstream,
    metrics: true,
    nodeArgs,
  })
  const users = await usersFill(
    ctx,
    bff,
    upstream,
    options.memoryUsers,
    options.memorySeconds,
    (n) => say(`memory: ${n} users`),
  ).catch((err: unknown) => explainExit(bff, capped, err))
  await bff.child.stop()
  say(`memory: ${options.objectIds} objectIds of one user…`)
  const bff2 = await startBff(ctx, {
    name: 'bff-objects',
    kind: 'memory',
    upstream,
    metrics: true,
    nodeArgs,
  })
  const objects = await objectIdsFill(
    ctx,
    bff2,
    upstream,
    options.objectIds,
    options.memorySeconds / 2,
  ).catch((err: unknown) => explainExit(bff2, capped, err))
  await bff2.child.stop()
  for (const m of [users, objects]) {
    report.memory.push(m)
    if (m.mints !== m.count)
      report.problems.push(`memory (${m.name}): ${m.mints} mints, expected ${m.count}`)
  }
}
