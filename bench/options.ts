/**
 * Command-line options of `npm run bench -- …`, with the defaults of a full run and of `--quick`.
 */
import { parseArgs } from 'node:util'
import type { LoadGeneratorName } from './load.js'

/** The parts of a run `--only` can pick. */
export type Section = 'throughput' | 'storms' | 'memory'
const SECTIONS: readonly Section[] = ['throughput', 'storms', 'memory']

/** The parsed command line, defaults filled in. */
export interface Options {
  quick: boolean
  profile: boolean
  /** With --profile: the BFF on REDIS_URL (a throw-away redis-server) instead of memory. */
  profileRedis: boolean
  rounds: number
  seconds: number
  warmupSeconds: number
  firstWarmupSeconds: number
  connections: number
  stormUsers: number
  sameUser: number
  memoryUsers: number
  objectIds: number
  /** Time cap of the users fill (the objectIds fill gets half). */
  memorySeconds: number
  /** `--max-old-space-size` of the BFF in the memory fills; 0: V8 sizes the heap itself. */
  memoryHeapMiB: number
  sections: Section[]
  loadgen?: LoadGeneratorName
  build: boolean
  keepLogs: boolean
}

/** What `--help` prints. */
export const USAGE = `Usage: npm run bench -- [options]

Runs the BFF (the built dist/, production mode) beside its baselines, each its own process on
127.0.0.1, and prints a Markdown report (also written to bench/results/latest.md).

  --quick              seconds-long smoke run (CI): 1 round of 1 s, small storms and fills;
                       fails only when the harness breaks, never on speed
  --profile            run the BFF under node --cpu-prof for the proxied-bearer row and print
                       the top functions by self time (bench/results/profile.md)
  --profile-redis      the same with REDIS_URL (a throw-away redis-server)
  --rounds N           interleaved rounds per row (default 3; quick 1)
  --duration S         seconds per measured run (default 4; quick 1; profile 10)
  --warmup S           seconds of unmeasured load before each run (default 1; quick 0)
  --connections N      concurrent keep-alive connections (default 32)
  --storm-users N      distinct users in the login storm (default 1000; quick 50)
  --same-user N        concurrent first requests of one user (default 500; quick 20)
  --memory-users N     distinct users for the memory fill (default 100000; quick 300)
  --object-ids N       distinct objectIds for one user (default 10000; quick 100)
  --memory-seconds S   time cap of the users fill, half of it for the objectIds fill; what
                       is filled by then is reported (default 90; quick 20)
  --memory-heap-mib N  start the memory fills' BFF with node --max-old-space-size=N, as a
                       container's memory limit would size its heap (default 0: V8's own
                       sizing, which on a large host lets garbage pile up before collecting)
  --only LIST          comma list of sections: throughput,storms,memory (default all)
  --loadgen NAME       wrk or autocannon (default: wrk when on PATH, else autocannon)
  --no-build           do not rebuild dist/ even if src/ is newer
  --keep-logs          keep the temporary directory with configs and log files
  -h, --help           print this and exit
`

function positive(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be an integer ≥ ${min}`)
  return value
}

/** Parses argv; throws with a readable message on a bad option. `null` = help was asked for. */
export function parseOptions(argv: readonly string[]): Options | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'profile-redis': { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'storm-users': { type: 'string' },
      'same-user': { type: 'string' },
      'memory-users': { type: 'string' },
      'object-ids': { type: 'string' },
      'memory-seconds': { type: 'string' },
      'memory-heap-mib': { type: 'string' },
      only: { type: 'string' },
      loadgen: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'keep-logs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return null
  const quick = values.quick
  const sections =
    values.only === undefined ? [...SECTIONS] : values.only.split(',').map((s) => s.trim())
  for (const section of sections) {
    if (!SECTIONS.includes(section as Section))
      throw new Error(`--only: unknown section "${section}"; choose from ${SECTIONS.join(', ')}`)
  }
  if (values.loadgen !== undefined && values.loadgen !== 'wrk' && values.loadgen !== 'autocannon')
    throw new Error('--loadgen must be wrk or autocannon')
  return {
    quick,
    profile: values.profile || values['profile-redis'],
    profileRedis: values['profile-redis'],
    rounds: positive('rounds', values.rounds, quick ? 1 : 3),
    seconds: positive(
      'duration',
      values.duration,
      quick ? 1 : values.profile || values['profile-redis'] ? 10 : 4,
    ),
    warmupSeconds: positive('warmup', values.warmup, quick ? 0 : 1, 0),
    firstWarmupSeconds: quick ? 0 : 2,
    connections: positive('connections', values.connections, 32),
    stormUsers: positive('storm-users', values['storm-users'], quick ? 50 : 1000),
    sameUser: positive('same-user', values['same-user'], quick ? 20 : 500),
    memoryUsers: positive('memory-users', values['memory-users'], quick ? 300 : 100_000),
    objectIds: positive('object-ids', values['object-ids'], quick ? 100 : 10_000),
    memorySeconds: positive('memory-seconds', values['memory-seconds'], quick ? 20 : 90),
    memoryHeapMiB: positive('memory-heap-mib', values['memory-heap-mib'], 0, 0),
    sections: sections as Section[],
    ...(values.loadgen ? { loadgen: values.loadgen } : {}),
    build: !values['no-build'],
    keepLogs: values['keep-logs'],
  }
}
