/**
 * Starts the BFF the way a newcomer does (no configuration at all → demo mode), minus the build
 * step: `node --import tsx src/main.ts` as a child process on a free port, and stops it again.
 */
import { freePort, scrubbedEnv, spawnNode, waitFor, type Child } from '../helpers/child-process.js'

export { ROOT } from '../helpers/child-process.js'

const READY_TIMEOUT_MS = 30_000
const DEMO_URL = /Open the demo page: (http:\/\/127\.0\.0\.1:(\d+)\/)/

/** The BFF in demo mode, once it has printed the demo page's URL. */
export interface DemoProcess {
  /** The BFF's process. */
  bff: Child
  /** The demo page's URL as printed, e.g. `http://127.0.0.1:40123/`. */
  url: string
  /** Everything printed on stdout and stderr so far. */
  output(): string
}

async function startOnce(port: number, env: Record<string, string>): Promise<DemoProcess> {
  const bff = spawnNode('src/main.ts', scrubbedEnv({ ...env, PORT: String(port) }))
  const printed = (): RegExpExecArray | null => DEMO_URL.exec(bff.output().stdout)
  try {
    await waitFor(() => printed() !== null, {
      timeoutMs: READY_TIMEOUT_MS,
      what: 'the demo URL is printed',
      child: bff,
    })
  } catch (err) {
    bff.child.kill('SIGKILL')
    throw err
  }
  const [, url, listening] = printed() ?? []
  if (listening !== String(port)) {
    bff.child.kill('SIGKILL')
    throw new Error(`PORT=${port} was given, but the BFF listens on ${url!}`)
  }
  return { bff, url: url!, output: () => bff.transcript() }
}

/**
 * Starts the BFF in demo mode (`env` may add settings such as TS_TOKEN_VALIDITY_SECONDS); tries
 * another port if the chosen one was taken meanwhile.
 */
export async function startDemoBff(env: Record<string, string> = {}): Promise<DemoProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(await freePort(), env)
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('EADDRINUSE')) throw err
    }
  }
}

/**
 * SIGTERM (the BFF drains and exits), SIGKILL if it has not exited in time. The exit code (or
 * the signal's name); `null` without a process.
 */
export async function stopDemoBff(demo: DemoProcess | undefined): Promise<number | string | null> {
  return demo ? demo.bff.stop() : null
}
