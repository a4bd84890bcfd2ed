/**
 * Child-process plumbing for tests that run the BFF or the simulator the way an operator does:
 * `node --import tsx <script>` from the repo root, with an environment scrubbed of everything
 * that configures them, on a free loopback port. Every child is killed when the test process
 * exits; `stopAll()` in an `after` hook kills the ones a failed test left running sooner.
 * `stop()` and `stopAll()` run the leak check over what a child printed: no secret it was given
 * (by variable or by file) may appear in its output.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { assertNoLeaks, findLeaks } from './leak-check.js'

/** The repository root: children run there, and scripts are given relative to it. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** How long {@link Child.stop} waits after SIGTERM before it sends SIGKILL, unless told. */
const STOP_TIMEOUT_MS = 15_000
const POLL_MS = 100

/** Prefixes of the variables that configure the BFF or the simulator. */
const CONFIGURING_PREFIXES = ['TS_', 'IDENTITY_', 'SESSION_', 'BFF_', 'SIM_']
/** Other variables that configure them (or take the BFF out of demo mode). */
const CONFIGURING_NAMES = ['NODE_ENV', 'REDIS_URL', 'HOST', 'PORT', 'CORS_ORIGINS', 'LOG_LEVEL']

/** A loopback port held open until `release()`. */
export interface HeldPort {
  /** The port number on 127.0.0.1. */
  port: number
  /** Stops listening, so that the port is free again. */
  release(): Promise<void>
}

/** Listens on a free 127.0.0.1 port, e.g. to make a child's listen fail with EADDRINUSE. */
export async function holdFreePort(): Promise<HeldPort> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const release = (): Promise<void> => new Promise((resolve) => server.close(() => resolve()))
  if (typeof address !== 'object' || address === null) {
    await release()
    throw new Error('no port')
  }
  return { port: address.port, release }
}

/** A 127.0.0.1 port that was free a moment ago (another process may take it meanwhile). */
export async function freePort(): Promise<number> {
  const held = await holdFreePort()
  await held.release()
  return held.port
}

/**
 * The caller's environment without anything that configures the BFF or the simulator (SIM_*,
 * TS_*, …: listed above), with `extra` set over it.
 */
export function scrubbedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    const configures =
      CONFIGURING_PREFIXES.some((prefix) => name.startsWith(prefix)) ||
      CONFIGURING_NAMES.includes(name)
    if (!configures && value !== undefined) env[name] = value
  }
  return { ...env, ...extra }
}

/** A running (or ended) child process started by {@link spawnNode}. */
export interface Child {
  /** The process itself, e.g. to send it a signal. */
  child: ChildProcess
  /** Everything printed so far, per stream. */
  output(): { stdout: string; stderr: string }
  /** Both streams, labelled, for messages: `\n--- stdout\n…\n--- stderr\n…`. */
  transcript(): string
  /** The exit code (or the signal's name) once the process has ended and its output is read. */
  exited: Promise<number | string>
  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`; resolves like `exited`. */
  stop(timeoutMs?: number): Promise<number | string>
}

const children = new Set<Child>()
/** Children whose output has not been leak-checked yet (running or ended). */
const unchecked = new Set<Child>()
const secretsOf = new WeakMap<Child, string[]>()

/** Variables whose value (or, for `*_FILE`, whose file's content) is a credential. */
const SECRET_VARIABLE = /(SECRET|_KEY|PASSWORD)(_FILE)?$/

/** The credentials `env` hands a child: values, comma lists split, files read. */
function secretsIn(env: Record<string, string>): string[] {
  const found: string[] = []
  for (const [name, value] of Object.entries(env)) {
    if (!SECRET_VARIABLE.test(name)) continue
    if (name.endsWith('_FILE')) {
      const path = isAbsolute(value) ? value : join(ROOT, value)
      if (existsSync(path)) found.push(readFileSync(path, 'utf8').trim())
    } else found.push(...value.split(','), value)
  }
  return found.map((value) => value.trim())
}

function leakCheck(checked: readonly Child[]): void {
  for (const each of checked) {
    unchecked.delete(each)
    const { stdout, stderr } = each.output()
    const leaks = findLeaks(
      { secrets: secretsOf.get(each) ?? [], heldCredentials: [], tokens: [] },
      [...stdout.split('\n'), ...stderr.split('\n')],
      [],
    )
    assertNoLeaks(leaks, `a child process (${each.child.spawnargs.slice(-1).join(' ')})`)
  }
}

const hasExited = ({ child }: Child): boolean =>
  child.exitCode !== null || child.signalCode !== null

/** Runs `node --import tsx <script>` in {@link ROOT}, with exactly `env`: {@link scrubbedEnv}. */
export function spawnNode(script: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Should the test process exit without its after() hooks running, take the child along.
  const kill = (): void => void child.kill('SIGKILL')
  process.once('exit', kill)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  // 'close' (not 'exit') so that every byte of stdout and stderr has been read.
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => {
      process.off('exit', kill)
      children.delete(running)
      resolve(code ?? signal ?? 'unknown')
    })
  })
  const running: Child = {
    child,
    output: () => ({ stdout, stderr }),
    transcript: () => `\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
    exited,
    async stop(timeoutMs = STOP_TIMEOUT_MS) {
      if (hasExited(running)) {
        const code = await exited
        leakCheck([running])
        return code
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      child.kill('SIGTERM')
      const code = await exited
      clearTimeout(timer)
      leakCheck([running])
      return code
    },
  }
  children.add(running)
  unchecked.add(running)
  secretsOf.set(running, secretsIn(env))
  return running
}

/** What {@link waitFor} waits for, how long, and for which child. */
export interface WaitOptions {
  /** How long to poll before giving up. */
  timeoutMs: number
  /** The awaited state as a clause, for the error: e.g. `'/readyz answers 200'`. */
  what: string
  /** Give up as soon as this child has exited; its transcript goes into the error. */
  child?: Child
}

/** Polls `check` (a throw counts as false) until it is true; rejects on timeout or exit. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  { timeoutMs, what, child }: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return
    if (child && hasExited(child)) {
      const code = await child.exited
      throw new Error(`exited (${code}) before ${what}${child.transcript()}`)
    }
    if (Date.now() > deadline) {
      throw new Error(
        `gave up after ${timeoutMs} ms waiting until ${what}${child?.transcript() ?? ''}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/**
 * SIGKILLs every child that is still running, waits until they have ended, then leak-checks
 * every child started since the last check.
 */
export async function stopAll(): Promise<void> {
  const running = [...children]
  for (const each of running) if (!hasExited(each)) each.child.kill('SIGKILL')
  await Promise.all(running.map((each) => each.exited))
  leakCheck([...unchecked])
}
