/**
 * Every process the bench starts goes through here: spawned (pinned to a core with taskset when
 * the machine has two), remembered, and stopped at the end, also on failure and Ctrl-C. Nothing
 * is stopped by name; only the pids this module spawned.
 */
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'

/** A spawned process the bench owns. */
export interface Child {
  name: string
  pid: number
  /** Resolves with the exit code (null when killed by a signal) once the process has ended. */
  exited: Promise<number | null>
  /** The last few KB the process wrote on stderr. */
  stderr(): string
  stop(): Promise<void>
}

/** How `spawnChild` starts a process. */
export interface SpawnOptions {
  env?: Record<string, string>
  cwd?: string
  /** `sut` = the core of the process under test, `load` = the core of load generator/upstream. */
  core?: 'sut' | 'load'
  /** File that receives stdout (and stderr is kept in memory); default: stdout discarded. */
  stdoutFile?: string
  /** Keep stdout readable as a stream (load generators). */
  pipeStdout?: boolean
}

/** Which CPUs the bench pins to, or why it does not. */
export interface Pinning {
  sut: number | null
  load: number | null
  note: string
}

/** Settings a child must never inherit from the shell that started the bench. */
const NOT_INHERITED =
  /^(NODE_ENV|NODE_OPTIONS|PORT|HOST|BFF_.*|TS_.*|SESSION_SECRET.*|REDIS_URL|IDENTITY_.*|CORS_ORIGINS|LOG_LEVEL)$/

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !NOT_INHERITED.test(name)) env[name] = value
  }
  return env
}

let stopping = false

/** True once Ctrl-C or SIGTERM arrived: what is still running is being torn down, not measured. */
export const interrupted = (): boolean => stopping

const running = new Set<Child & { kill(signal: NodeJS.Signals): void }>()
let pinning: Pinning | undefined

function affinity(): number[] {
  const text = execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' })
  const list = text.slice(text.lastIndexOf(':') + 1).trim()
  return list.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number) as [number, number | undefined]
    return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i)
  })
}

/** Decides once: pin the process under test and the load side to two different CPUs if we can. */
export function pinningPlan(): Pinning {
  if (pinning) return pinning
  let cpus: number[] = []
  try {
    cpus = affinity()
  } catch {
    pinning = { sut: null, load: null, note: 'not pinned: taskset not found' }
    return pinning
  }
  if (availableParallelism() < 2 || cpus.length < 2) {
    pinning = { sut: null, load: null, note: 'not pinned: fewer than 2 CPUs' }
    return pinning
  }
  const [sut, load] = cpus as [number, number]
  pinning = {
    sut,
    load,
    note: `process under test on CPU ${sut}; load generator, upstream, Redis and the bench itself on CPU ${load}`,
  }
  return pinning
}

/** Pins this (orchestrating) process, which drives the storms and memory fills, to the load CPU. */
export function pinSelf(): void {
  const plan = pinningPlan()
  if (plan.load === null) return
  execFileSync('taskset', ['-a', '-pc', String(plan.load), String(process.pid)], {
    stdio: 'ignore',
  })
}

/** Spawns `command`, pinned per `options.core`, and remembers it for `stopAll`. */
export function spawnChild(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Child & { process: ChildProcess } {
  const plan = pinningPlan()
  const cpu = options.core === undefined ? null : plan[options.core]
  const [file, argv] =
    cpu === null ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]]
  const outFd = options.stdoutFile ? openSync(options.stdoutFile, 'a') : undefined
  const stdio: StdioOptions = ['ignore', outFd ?? (options.pipeStdout ? 'pipe' : 'ignore'), 'pipe']
  // taskset execs the command, so the pid is the pinned process itself.
  const proc = spawn(file, argv, { env: { ...baseEnv(), ...options.env }, cwd: options.cwd, stdio })
  if (outFd !== undefined) closeSync(outFd)
  let errText = ''
  proc.stderr?.on('data', (chunk: Buffer) => {
    errText = (errText + chunk.toString('utf8')).slice(-8192)
  })
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code))
    proc.once('error', (err) => {
      errText += `\n${err.message}`
      resolve(-1)
    })
  })
  const child = {
    name,
    pid: proc.pid ?? -1,
    process: proc,
    exited,
    stderr: () => errText,
    kill(signal: NodeJS.Signals) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
    },
    async stop() {
      child.kill('SIGTERM')
      const ended = await Promise.race([exited.then(() => true), delay(5000).then(() => false)])
      if (!ended) {
        child.kill('SIGKILL')
        await exited
      }
      running.delete(child)
    },
  }
  running.add(child)
  void exited.then(() => running.delete(child))
  return child
}

/** Stops every process still running (the end of a run, a failure, Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()))
}

/**
 * Stops everything on SIGINT/SIGTERM, and kills what is left if this process exits anyway.
 * `atExit` runs last in both cases (e.g. removing the temporary directory).
 */
export function installCleanup(atExit: () => void): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    process.stderr.write(`\nbench: ${signal}, stopping every child process…\n`)
    void stopAll().finally(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL')
    atExit()
  })
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * Waits until `probe` succeeds; fails early with the child's stderr when it exits first.
 */
export async function waitUntil(
  child: Child,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  let exitCode: number | null | undefined
  void child.exited.then((code) => (exitCode = code))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      const last = child.stderr().trim().split('\n').slice(-3).join(' | ')
      throw new StartError(child.name, `exited with code ${String(exitCode)}: ${last}`)
    }
    if (await probe().catch(() => false)) return
    await delay(50)
  }
  throw new StartError(child.name, `not ready after ${timeoutMs} ms`)
}

/** A process that did not start; `detail` carries its last stderr lines. */
export class StartError extends Error {
  constructor(
    readonly child: string,
    readonly detail: string,
  ) {
    super(`${child} did not start: ${detail}`)
  }
}
