/**
 * `npm run bench [-- <scenario>...]`: starts bench/server.ts (BFF + simulator) in a child process
 * per scenario, drives it with autocannon from this process, prints one Markdown table and stops
 * the server. BENCH_DURATION (seconds per measured run, default 10), BENCH_WARMUP (seconds of
 * unrecorded load first, default 2; 0 for none) and BENCH_CONNECTIONS (default 10; 50 for
 * proxy-budget) override the load.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import type { Ready, SimStats } from './server.js'

function envInt(name: string, min = 1): number | undefined {
  const text = process.env[name]
  if (text === undefined || text === '') return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer ≥ ${min}`)
  return value
}

const DURATION = envInt('BENCH_DURATION') ?? 10
const WARMUP = envInt('BENCH_WARMUP', 0) ?? 2
const CONNECTIONS = envInt('BENCH_CONNECTIONS')
const USERS = 1000
const SEARCH_PATH = '/api/rest/2.0/metadata/search'
const SEARCH_BODY = JSON.stringify({ metadata: [{ type: 'LIVEBOARD' }], record_size: 10 })

interface Server {
  ready: Ready
  stats(): Promise<SimStats>
  stop(): Promise<void>
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const script = fileURLToPath(new URL('./server.ts', import.meta.url))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit')
  const waiting: Array<(line: string) => void> = []
  const lines = createInterface({ input: child.stdout! })
  lines.on('line', (line) => waiting.shift()?.(line))
  const nextLine = (): Promise<string> =>
    Promise.race([
      new Promise<string>((resolve) => waiting.push(resolve)),
      exited.then(([code]) => {
        throw new Error(`bench server exited (${String(code)})`)
      }),
    ])
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  try {
    const ready = JSON.parse(await nextLine()) as Ready
    return {
      ready,
      stop,
      async stats() {
        // Let calls still in flight when autocannon stopped reach the simulator first.
        await delay(500)
        const line = nextLine()
        child.stdin!.write('stats\n')
        return JSON.parse(await line) as SimStats
      },
    }
  } catch (err) {
    await stop()
    throw err
  }
}

interface Row {
  scenario: string
  target: string
  result: autocannon.Result
  sim?: SimStats
  note?: string
}

type Load = Omit<autocannon.Options, 'duration' | 'connections'>

function load(
  options: Load,
  connections = CONNECTIONS ?? 10,
  duration = DURATION,
): Promise<autocannon.Result> {
  return autocannon({ ...options, connections, duration })
}

interface Scenario {
  name: string
  /** Env for bench/server.ts. */
  server?: Record<string, string>
  /** Unrecorded load run first so the measured run starts with warm JIT code. */
  warmup?: (s: Ready) => Load
  run(s: Ready, stats: () => Promise<SimStats>): Promise<Row[]>
}

const bearer = (jwt: string): Record<string, string> => ({ authorization: `Bearer ${jwt}` })

const cachedToken = (s: Ready): Load => ({ url: `${s.url}/ts/auth/token`, headers: bearer(s.jwt) })

const search = (base: string, token: string): Load => ({
  method: 'POST',
  url: `${base}${SEARCH_PATH}`,
  body: SEARCH_BODY,
  headers: { 'content-type': 'application/json', ...bearer(token) },
})

const sessionRead = (s: Ready): Load => ({
  url: `${s.url}/ts/session`,
  headers: { cookie: s.cookie, 'x-forwarded-proto': 'https' },
})

const scenarios: Scenario[] = [
  {
    name: 'token-cached',
    warmup: cachedToken,
    async run(s, stats) {
      const result = await load(cachedToken(s))
      return [{ scenario: this.name, target: 'BFF', result, sim: await stats() }]
    },
  },
  {
    name: 'token-many-users',
    server: { BENCH_USERS: String(USERS) },
    // Warms the same code path with the one pre-minted user, leaving the 1000 users' cache empty.
    warmup: cachedToken,
    async run(s, stats) {
      let next = 0
      const result = await load({
        url: s.url,
        requests: [
          {
            method: 'GET',
            path: '/ts/auth/token',
            setupRequest: (request) => ({
              ...request,
              headers: bearer(s.users[next++ % s.users.length]!),
            }),
          },
        ],
      })
      const sim = await stats()
      const note = `${sim.mints} mints for ${s.users.length} users`
      return [{ scenario: this.name, target: 'BFF', result, sim, note }]
    },
  },
  {
    name: 'session-cookie',
    warmup: sessionRead,
    async run(s, stats) {
      const result = await load(sessionRead(s))
      return [{ scenario: this.name, target: 'BFF', result, sim: await stats() }]
    },
  },
  {
    name: 'proxy-v2',
    warmup: (s) => search(`${s.url}/ts`, s.jwt),
    async run(s, stats) {
      const viaBff = await load(search(`${s.url}/ts`, s.jwt))
      const bffSim = await stats()
      const direct = await load(search(s.simulatorUrl, s.tsToken))
      return [
        { scenario: this.name, target: 'BFF → simulator', result: viaBff, sim: bffSim },
        { scenario: this.name, target: 'simulator direct', result: direct, sim: await stats() },
      ]
    },
  },
  {
    name: 'proxy-budget',
    // A short queue timeout so that 50 connections overflow the queue: with the default 2000 ms
    // the queue holds ~100 waiters at 50/s and 50 connections would only wait, never be refused.
    server: { BENCH_TS_RPS: '50', BENCH_TS_QUEUE_MS: '250' },
    async run(s, stats) {
      const result = await load(search(`${s.url}/ts`, s.jwt), CONNECTIONS ?? 50)
      const sim = await stats()
      const rate = (sim.searches / result.duration).toFixed(1)
      const note = `upstream ${rate}/s avg, peak ${sim.peakSearchesPerSecond} in 1 s (budget 50/s, burst 5)`
      return [{ scenario: this.name, target: 'BFF (budget 50/s)', result, sim, note }]
    },
  },
]

/** autocannon's latency histogram has 1 ms resolution: 0 means under a millisecond. */
const ms = (value: number): string => (value === 0 ? '<1' : String(value))

function statusText(result: autocannon.Result): string {
  const codes = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, { count }]) => `${code}×${count ?? 0}`)
  return codes.length === 0 ? '0' : codes.join(' ')
}

function simText(sim: SimStats | undefined): string {
  if (!sim) return ''
  const other = sim.calls - sim.mints - sim.searches
  const parts = [`${sim.mints} mint`, `${sim.searches} search`]
  if (other > 0) parts.push(`${other} other`)
  return parts.join(', ')
}

function table(rows: readonly Row[]): string {
  const header = [
    'scenario',
    'target',
    'conns',
    'req/s',
    'p50 ms',
    'p97.5 ms',
    'p99 ms',
    '2xx',
    'non-2xx',
    'errors',
    'simulator calls',
    'note',
  ]
  const body = rows.map(({ scenario, target, result, sim, note }) => [
    scenario,
    target,
    String(result.connections),
    result.requests.average.toFixed(0),
    ms(result.latency.p50),
    ms(result.latency.p97_5),
    ms(result.latency.p99),
    String(result['2xx']),
    statusText(result),
    String(result.errors),
    simText(sim),
    note ?? '',
  ])
  return [header, header.map(() => '---'), ...body]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n')
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2)
  const unknown = wanted.filter((name) => !scenarios.some((s) => s.name === name))
  if (unknown.length > 0) {
    const names = scenarios.map((s) => s.name).join(', ')
    throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${names}`)
  }
  const chosen = wanted.length === 0 ? scenarios : scenarios.filter((s) => wanted.includes(s.name))
  const rows: Row[] = []
  for (const scenario of chosen) {
    process.stderr.write(`${scenario.name}: ${DURATION} s per run…\n`)
    const server = await startServer(scenario.server ?? {})
    try {
      if (scenario.warmup && WARMUP > 0) {
        await load(scenario.warmup(server.ready), undefined, WARMUP)
        await server.stats() // discard the warm-up's simulator calls
      }
      rows.push(...(await scenario.run(server.ready, () => server.stats())))
    } finally {
      await server.stop()
    }
  }
  process.stdout.write(`${table(rows)}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
