/**
 * A real `redis-server` (the Debian package) for tests: started on a free loopback port with
 * nothing persisted, stopped by `stop()` (and killed when the test process exits). It can be
 * paused (SIGSTOP: a Redis that hangs), killed (a Redis that is gone) and started again on the
 * same port (a Redis that comes back).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './child-process.js'

/** A redis-server the test controls. */
export interface TestRedis {
  port: number
  /** `redis://127.0.0.1:<port>` (with the password when one was asked for). */
  url: string
  /** Kills the server (its data is lost: nothing is persisted). */
  kill(): Promise<void>
  /** Starts it again on the same port. */
  restart(): Promise<void>
  /** SIGSTOP: it keeps its connections but answers nothing. */
  pause(): void
  /** SIGCONT after `pause()`. */
  resume(): void
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** True once something accepts connections on the port. */
async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Starts a redis-server; `password` makes it require AUTH. */
export async function startRedis(options: { password?: string } = {}): Promise<TestRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined

  const start = async (): Promise<void> => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
      ...(options.password ? ['--requirepass', options.password] : []),
    ]
    const started = spawn('redis-server', args, { stdio: 'ignore' })
    running.add(started)
    started.once('exit', () => running.delete(started))
    child = started
    for (let i = 0; i < 200; i++) {
      if (started.exitCode !== null) throw new Error(`redis-server exited (${started.exitCode})`)
      if (await answers(port)) return
      await sleep(25)
    }
    throw new Error('redis-server did not start')
  }

  const kill = async (): Promise<void> => {
    const current = child
    if (!current || current.exitCode !== null || current.signalCode !== null) return
    current.kill('SIGCONT')
    const exited = new Promise((resolve) => current.once('exit', resolve))
    current.kill('SIGKILL')
    await exited
  }

  await start()
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : ''
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    kill,
    restart: start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop: kill,
  }
}
