/**
 * Starts the BFF the way a newcomer does (no configuration at all → demo mode), minus the build
 * step: `node --import tsx src/main.ts` as a child process on a free port, and stops it again.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const READY_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 15_000

export interface DemoProcess {
  child: ChildProcess
  /** The demo page's URL as printed, e.g. `http://127.0.0.1:40123/`. */
  url: string
  /** Everything printed on stdout and stderr so far. */
  output(): string
}

/** A port that was free a moment ago (another process may still take it: see startDemoBff). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

/** The caller's environment without anything that would configure the BFF (or leave demo mode). */
function freshMachineEnv(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    const configures =
      /^(TS_|IDENTITY_|SESSION_SECRET|BFF_)/.test(name) ||
      ['NODE_ENV', 'REDIS_URL', 'HOST', 'PORT', 'CORS_ORIGINS', 'LOG_LEVEL'].includes(name)
    if (!configures) env[name] = value
  }
  return { ...env, PORT: String(port) }
}

function startOnce(port: number): Promise<DemoProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: freshMachineEnv(port),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Should this process exit without its after() hook running, take the BFF along. (A runner
  // stopped with Ctrl-C signals the whole process group, the BFF included.)
  const onExit = (): void => void child.kill('SIGKILL')
  process.once('exit', onExit)
  child.once('exit', () => process.off('exit', onExit))
  let stdout = ''
  let stderr = ''
  const output = (): string => `--- stdout\n${stdout}\n--- stderr\n${stderr}`
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no demo URL printed within ${READY_TIMEOUT_MS} ms\n${output()}`))
    }, READY_TIMEOUT_MS)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const match = /Open the demo page: (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(stdout)
      if (!match) return
      clearTimeout(timer)
      if (match[2] === String(port)) resolve({ child, url: match[1]!, output })
      else {
        child.kill('SIGKILL')
        reject(new Error(`PORT=${port} was given, but the BFF listens on ${match[1]!}`))
      }
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`the BFF exited (${signal ?? code}) before it was ready\n${output()}`))
    })
  })
}

/** Starts the BFF in demo mode; tries another port if the chosen one was taken meanwhile. */
export async function startDemoBff(): Promise<DemoProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(await freePort())
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('EADDRINUSE')) throw err
    }
  }
}

/** SIGTERM (the BFF drains and exits), SIGKILL if it has not exited in time. The exit code. */
export async function stopDemoBff(demo: DemoProcess | undefined): Promise<number | null> {
  const child = demo?.child
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  const [code] = await exited
  clearTimeout(timer)
  return code
}
