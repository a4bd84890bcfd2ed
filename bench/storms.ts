/**
 * Login storms, not timed tests: many first requests (`GET /ts/auth/token`, nothing cached) at
 * once, each client retrying a 429 after its Retry-After until it is served. What counts is what
 * the upstream saw: how many mints, and the most calls within any one second.
 */
import { Agent } from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'
import { call } from './http.js'
import type { Bff, Upstream } from './stack.js'
import { VIA_TLS } from './stack.js'

/** What one storm saw at the upstream. */
export interface StormResult {
  name: string
  requests: number
  replicas: number
  expectedMints: number
  mints: number
  maxPerSecond: number
  maxInFlight: number
  /** From the first request sent until the last client was served. */
  seconds: number
  /** 429 answers the clients waited out and retried. */
  retried429: number
  /** Connection errors the clients retried (e.g. a full listen backlog). */
  retriedErrors: number
}

const MAX_ATTEMPTS = 300

/** One client: asks until it gets its token; throws on any answer but 200 and 429. */
async function firstRequest(
  bff: Bff,
  jwt: string,
  agent: Agent,
  tally: { retried429: number; retriedErrors: number },
): Promise<void> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let reply
    try {
      reply = await call(`${bff.url}/ts/auth/token`, {
        agent,
        headers: { authorization: `Bearer ${jwt}`, ...VIA_TLS },
      })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EMFILE')
        throw new Error('storm: out of file descriptors; raise `ulimit -n`', { cause: err })
      tally.retriedErrors++
      await delay(100)
      continue
    }
    if (reply.status === 200) return
    if (reply.status !== 429) {
      throw new Error(`storm: ${bff.name} answered ${reply.status} ${reply.body.slice(0, 200)}`)
    }
    tally.retried429++
    const retryAfter = Number(reply.headers['retry-after'] ?? 1)
    await delay((Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1) * 1000)
  }
  throw new Error(`storm: a client was not served after ${MAX_ATTEMPTS} attempts`)
}

/**
 * Sends one first request per JWT, all at once, spread round-robin over `bffs`. `expectedMints`
 * is how many distinct users the JWTs hold.
 */
export async function storm(
  name: string,
  bffs: readonly Bff[],
  upstream: Upstream,
  jwts: readonly string[],
  expectedMints: number,
): Promise<StormResult> {
  await upstream.reset()
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity })
  const tally = { retried429: 0, retriedErrors: 0 }
  const started = performance.now()
  try {
    await Promise.all(
      jwts.map((jwt, i) => firstRequest(bffs[i % bffs.length] as Bff, jwt, agent, tally)),
    )
  } finally {
    agent.destroy()
  }
  const seconds = (performance.now() - started) / 1000
  const stats = await upstream.stats()
  return {
    name,
    requests: jwts.length,
    replicas: bffs.length,
    expectedMints,
    mints: stats.mints,
    maxPerSecond: stats.maxPerSecond,
    maxInFlight: stats.maxInFlight,
    seconds,
    ...tally,
  }
}
