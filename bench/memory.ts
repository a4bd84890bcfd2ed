/**
 * Memory of the BFF's in-process state: RSS after N distinct users each logged in (a session in
 * the memory store) and holding a cached token, and the growth per 10,000 distinct objectIds
 * (object-scoped tokens) of one user.
 */
import { randomUUID } from 'node:crypto'
import { Agent } from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'
import { expectStatus } from './http.js'
import { rssMiB } from './procstat.js'
import { VIA_TLS, type BenchContext, type Bff, type Upstream } from './stack.js'

/** What one memory fill measured. */
export interface MemoryResult {
  name: string
  /** Items asked for, and items filled before the time cap. */
  wanted: number
  count: number
  rssBeforeMiB: number
  rssAfterMiB: number
  /** V8 heap in use (garbage included: no GC is forced) from the BFF's /metrics, if served. */
  heapBeforeMiB: number | null
  heapAfterMiB: number | null
  /** RSS growth scaled to `per` items. */
  growthMiB: number
  per: number
  mints: number
  seconds: number
}

const WORKERS = 32

/** Runs up to `count` jobs, `WORKERS` at once, starting none after `deadline`; returns how many ran. */
async function pool(
  count: number,
  deadline: number,
  job: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() < deadline) await job(next++)
  }
  await Promise.all(Array.from({ length: Math.min(WORKERS, count) }, worker))
  return next
}

interface Memory {
  rss: number
  heap: number | null
}

async function memoryOf(bff: Bff): Promise<Memory> {
  // A moment for in-flight work and timers to finish before reading.
  await delay(1000)
  let heap: number | null = null
  if (bff.metricsUrl !== null) {
    const text = (await expectStatus(200, `${bff.metricsUrl}/metrics`)).body
    const used = /^\w*nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1]
    if (used !== undefined) heap = Number(used) / 2 ** 20
  }
  return { rss: rssMiB(bff.child.pid), heap }
}

function result(
  name: string,
  wanted: number,
  count: number,
  before: Memory,
  after: Memory,
  mints: number,
  seconds: number,
): MemoryResult {
  return {
    name,
    wanted,
    count,
    rssBeforeMiB: before.rss,
    rssAfterMiB: after.rss,
    heapBeforeMiB: before.heap,
    heapAfterMiB: after.heap,
    growthMiB: count > 0 ? ((after.rss - before.rss) * 10_000) / count : NaN,
    per: 10_000,
    mints,
    seconds,
  }
}

/** `count` distinct users: login (session), then the token route with the cookie (mint, cache). */
export async function usersFill(
  ctx: BenchContext,
  bff: Bff,
  upstream: Upstream,
  wanted: number,
  maxSeconds: number,
  onProgress?: (done: number) => void,
): Promise<MemoryResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: WORKERS })
  const before = await memoryOf(bff)
  await upstream.reset()
  const started = performance.now()
  let done = 0
  let count = 0
  try {
    count = await pool(wanted, started + maxSeconds * 1000, async (i) => {
      const jwt = await ctx.sign(`mem-user-${i}`)
      const login = await expectStatus(200, `${bff.url}/ts/session`, {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${jwt}`, ...VIA_TLS },
      })
      const cookie = login.headers['set-cookie']?.[0]?.split(';')[0] ?? ''
      await expectStatus(200, `${bff.url}/ts/auth/token`, {
        agent,
        headers: { cookie, ...VIA_TLS },
      })
      if (++done % 10_000 === 0) onProgress?.(done)
    })
  } finally {
    agent.destroy()
  }
  const seconds = (performance.now() - started) / 1000
  const after = await memoryOf(bff)
  const { mints } = await upstream.stats()
  return result(
    `${count} users, each a session and a cached token`,
    wanted,
    count,
    before,
    after,
    mints,
    seconds,
  )
}

/** One user asks for `count` object-scoped tokens, each for a distinct objectId. */
export async function objectIdsFill(
  ctx: BenchContext,
  bff: Bff,
  upstream: Upstream,
  wanted: number,
  maxSeconds: number,
): Promise<MemoryResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: WORKERS })
  const headers = { authorization: `Bearer ${await ctx.sign('objects-user')}`, ...VIA_TLS }
  // The user's first call (full token) so the measured growth is the objectIds' alone.
  await expectStatus(200, `${bff.url}/ts/auth/token`, { agent, headers })
  const before = await memoryOf(bff)
  await upstream.reset()
  const started = performance.now()
  let count = 0
  try {
    count = await pool(wanted, started + maxSeconds * 1000, async () => {
      await expectStatus(200, `${bff.url}/ts/auth/token?objectId=${randomUUID()}`, {
        agent,
        headers,
      })
    })
  } finally {
    agent.destroy()
  }
  const seconds = (performance.now() - started) / 1000
  const after = await memoryOf(bff)
  const { mints } = await upstream.stats()
  return result(
    `one user, ${count} distinct objectIds`,
    wanted,
    count,
    before,
    after,
    mints,
    seconds,
  )
}
