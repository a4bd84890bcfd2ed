/**
 * The system under load, in its own process so autocannon does not share its event loop: the real
 * BFF plus the ThoughtSpot simulator (startStack, exactly as the integration tests run them) with
 * the BFF's own rate limits raised out of the way and logging off.
 *
 * Protocol with bench/run.ts: one `Ready` JSON line on stdout once listening; each `stats` line on
 * stdin is answered by one `SimStats` JSON line (the simulator calls since the previous `stats`);
 * SIGTERM or SIGINT stops everything.
 *
 * Env: BENCH_USERS (distinct users to sign JWTs for, default 0), BENCH_TS_RPS (upstream budget,
 * default 100000), BENCH_TS_QUEUE_MS (upstream queue timeout, default the config's 2000).
 */
import { createInterface } from 'node:readline'
import type { RecordedCall } from '../src/simulator/server.js'
import { startStack } from '../test/helpers/start.js'

export interface Ready {
  /** The BFF, e.g. http://127.0.0.1:40123 */
  url: string
  simulatorUrl: string
  /** App JWT of `bench-user`, whose ThoughtSpot token is already minted and cached. */
  jwt: string
  /** Session cookie (name=value) of `bench-user`. */
  cookie: string
  /** `bench-user`'s ThoughtSpot token, for calling the simulator directly. */
  tsToken: string
  /** App JWTs of BENCH_USERS distinct users that have no token yet. */
  users: string[]
}

export interface SimStats {
  calls: number
  mints: number
  searches: number
  /** The most metadata/search calls that arrived within any one second. */
  peakSearchesPerSecond: number
  /** Simulator answers by status. */
  statuses: Record<string, number>
}

const SEARCH = '/api/rest/2.0/metadata/search'
const DAY = 86_400

function envInt(name: string, fallback: number | undefined): number | undefined {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be an integer ≥ 0`)
  return value
}

function peakPerSecond(times: number[]): number {
  let peak = 0
  for (let first = 0, last = 0; last < times.length; last++) {
    while ((times[last] ?? 0) - (times[first] ?? 0) >= 1000) first++
    peak = Math.max(peak, last - first + 1)
  }
  return peak
}

/** Running totals, so the simulator's recorder does not grow (and cost GC time) during a run. */
interface Tally {
  calls: number
  mints: number
  searchTimes: number[]
  statuses: Record<string, number>
}

const emptyTally = (): Tally => ({ calls: 0, mints: 0, searchTimes: [], statuses: {} })

function count(tally: Tally, call: RecordedCall): void {
  tally.calls++
  if (call.path.startsWith('/api/rest/2.0/auth/token/')) tally.mints++
  if (call.path === SEARCH) tally.searchTimes.push(call.at)
  tally.statuses[call.status] = (tally.statuses[call.status] ?? 0) + 1
}

function statsOf({ calls, mints, searchTimes, statuses }: Tally): SimStats {
  const peakSearchesPerSecond = peakPerSecond(searchTimes.sort((a, b) => a - b))
  return { calls, mints, searches: searchTimes.length, peakSearchesPerSecond, statuses }
}

const queueTimeoutMs = envInt('BENCH_TS_QUEUE_MS', undefined)
const stack = await startStack({
  // Real time, so the recorder's timestamps measure the upstream rate; day-long tokens and JWTs
  // keep expiry out of the measurements.
  clock: { now: () => Date.now(), advance: () => undefined },
  config: {
    rateLimits: {
      perIpPerMinute: 10_000_000,
      perUserPerMinute: 10_000_000,
      mintsPerUserPerMinute: 1_000_000,
    },
    thoughtspot: {
      maxRequestsPerSecond: envInt('BENCH_TS_RPS', 100_000),
      maxConcurrency: 1024,
      ...(queueTimeoutMs === undefined ? {} : { queueTimeoutMs }),
    },
    tokens: { validitySeconds: DAY },
  },
  env: { LOG_LEVEL: 'silent' },
})

const claims = { sub: 'bench-user', email: 'bench-user@example.com' }
const jwt = await stack.jwt(claims, { expiresIn: DAY })
const minted = await fetch(`${stack.url}/ts/auth/token`, {
  headers: { authorization: `Bearer ${jwt}` },
})
if (!minted.ok) throw new Error(`warm-up mint failed: ${minted.status}`)
const users = await Promise.all(
  Array.from({ length: envInt('BENCH_USERS', 0) ?? 0 }, (_, i) =>
    stack.jwt({ sub: `bench-user-${i}` }, { expiresIn: DAY }),
  ),
)
const ready: Ready = {
  url: stack.url,
  simulatorUrl: stack.simulator.url,
  jwt,
  cookie: await stack.login(claims),
  tsToken: await minted.text(),
  users,
}
let tally = emptyTally()
/** Moves the recorder's calls into the tally; unanswered ones stay unless `all`. */
const fold = (all: boolean): void => {
  const { calls } = stack.simulator.state
  const pending = all ? [] : calls.filter((call) => call.status === 0)
  for (const call of calls) if (all || call.status !== 0) count(tally, call)
  calls.length = 0
  calls.push(...pending)
}
stack.simulator.state.clearCalls()
const folding = setInterval(() => fold(false), 200)
process.stdout.write(`${JSON.stringify(ready)}\n`)

const commands = createInterface({ input: process.stdin })
commands.on('line', (line) => {
  if (line.trim() !== 'stats') return
  fold(true)
  process.stdout.write(`${JSON.stringify(statsOf(tally))}\n`)
  tally = emptyTally()
})

const stop = (): void => {
  clearInterval(folding)
  commands.close()
  process.stdin.destroy()
  void stack.close()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
