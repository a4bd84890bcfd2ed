/**
 * The load generator, its own process on the load CPU: Debian's `wrk` when it is on PATH (one
 * thread, a Lua script for method/headers/body and a JSON summary with µs percentiles), else
 * autocannon's CLI. Both keep every connection alive and send the same request over and over.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnChild } from './children.js'
import { ROOT } from './stack.js'

/** The one request a load run repeats. */
export interface LoadSpec {
  url: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: string
}

/** What a load run measured. */
export interface LoadResult {
  requests: number
  seconds: number
  rps: number
  p50Ms: number
  p99Ms: number
  /** Answers with a status ≥ 400 (wrk) or outside 2xx (autocannon). */
  non2xx: number
  /** Connect/read/write errors and timeouts. */
  errors: number
}

/** The load generators the bench can drive. */
export type LoadGeneratorName = 'wrk' | 'autocannon'

/** A load generator found on this machine, ready to run. */
export interface LoadGenerator {
  name: LoadGeneratorName
  version: string
  run(spec: LoadSpec, connections: number, seconds: number): Promise<LoadResult>
}

const AUTOCANNON = join(ROOT, 'node_modules/autocannon/autocannon.js')

function wrkVersion(): string | null {
  try {
    execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: 'pipe' })
  } catch (err) {
    // `wrk -v` prints its version and usage, then exits 1.
    const { stdout } = err as { stdout?: string | Buffer }
    const out = stdout === undefined ? '' : stdout.toString()
    return /wrk\s+(\S+)/.exec(out)?.[1] ?? null
  }
  return null
}

/** Picks wrk if present (or `forced`), else autocannon. */
export function pickLoadGenerator(dir: string, forced?: LoadGeneratorName): LoadGenerator {
  const wrk = forced === 'autocannon' ? null : wrkVersion()
  if (forced === 'wrk' && wrk === null) throw new Error('--loadgen wrk: wrk is not on PATH')
  if (wrk !== null) return { name: 'wrk', version: wrk, run: (s, c, d) => runWrk(dir, s, c, d) }
  const { version } = JSON.parse(
    execFileSync(process.execPath, ['-p', 'JSON.stringify(require("autocannon/package.json"))'], {
      cwd: ROOT,
      encoding: 'utf8',
    }),
  ) as { version: string }
  return { name: 'autocannon', version, run: runAutocannon }
}

async function output(child: ReturnType<typeof spawnChild>): Promise<string> {
  let text = ''
  child.process.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
  const code = await child.exited
  if (code !== 0) throw new Error(`${child.name} exited ${String(code)}: ${child.stderr().trim()}`)
  return text
}

/** A Lua string literal; the bench only ever sends printable ASCII. */
function lua(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error('wrk script values must be printable ASCII')
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

const WRK_DONE = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests":%d,"duration_us":%d,"status":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`

function wrkScript(dir: string, spec: LoadSpec): string {
  const lines = [`wrk.method = ${lua(spec.method)}`]
  for (const [name, value] of Object.entries(spec.headers))
    lines.push(`wrk.headers[${lua(name)}] = ${lua(value)}`)
  if (spec.body !== undefined) lines.push(`wrk.body = ${lua(spec.body)}`)
  const text = `${lines.join('\n')}\n${WRK_DONE}`
  const file = join(dir, `wrk-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.lua`)
  writeFileSync(file, text)
  return file
}

async function runWrk(
  dir: string,
  spec: LoadSpec,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s']
  const child = spawnChild('wrk', 'wrk', [...args, '-s', wrkScript(dir, spec), spec.url], {
    core: 'load',
    pipeStdout: true,
  })
  const text = await output(child)
  const line = text.split('\n').find((l) => l.startsWith('WRK-JSON '))
  if (!line) throw new Error(`wrk printed no summary: ${text.slice(0, 300)}`)
  const r = JSON.parse(line.slice('WRK-JSON '.length)) as Record<string, number>
  const secs = (r.duration_us as number) / 1e6
  return {
    requests: r.requests as number,
    seconds: secs,
    rps: (r.requests as number) / secs,
    p50Ms: (r.p50_us as number) / 1000,
    p99Ms: (r.p99_us as number) / 1000,
    non2xx: r.status as number,
    errors: r.errors as number,
  }
}

async function runAutocannon(
  spec: LoadSpec,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  const args = [AUTOCANNON, '-c', String(connections), '-d', String(seconds), '-m', spec.method]
  for (const [name, value] of Object.entries(spec.headers)) args.push('-H', `${name}:${value}`)
  if (spec.body !== undefined) args.push('-b', spec.body)
  const child = spawnChild('autocannon', process.execPath, [...args, '-j', '-n', spec.url], {
    cwd: ROOT,
    core: 'load',
    pipeStdout: true,
  })
  const r = JSON.parse(await output(child)) as {
    requests: { total: number }
    duration: number
    latency: { p50: number; p99: number }
    non2xx: number
    errors: number
    timeouts: number
  }
  return {
    requests: r.requests.total,
    seconds: r.duration,
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  }
}
