/**
 * Entry point: loadConfig → (demo) → createServices → createApp → listen. A configuration
 * problem prints one line per problem on stderr and exits 1. SIGTERM/SIGINT stop gracefully:
 * no new connections, /readyz 503, in-flight requests finish within `server.shutdownTimeoutMs`,
 * then the shared state (Redis) and the audit file are closed and the process exits 0. SIGHUP
 * re-reads the mapping and the secret files and reopens the audit file.
 */
import type { Server } from 'node:http'
import { createApp } from './app.js'
import { loadConfig, type Config } from './config/load.js'
import { StartupError } from './errors.js'
import { startDemo, type Demo } from './demo/setup.js'
import { trackForDrain, type Drain } from './http/drain.js'
import { listen, trustProxyWarning } from './http/server.js'
import { createLogger } from './observability/logger.js'
import { createMetrics, createMetricsApp } from './observability/metrics.js'
import { createServices } from './services.js'

function fail(problems: readonly string[]): never {
  for (const problem of problems) process.stderr.write(`thoughtspot-bff: config: ${problem}\n`)
  process.exit(1)
}

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof StartupError) fail(err.problems)
    throw err
  }
  const log = createLogger({ level: config.logging.level })
  for (const warning of config.warnings) log.warn({ event: 'config.warning' }, warning)
  const proxyWarning = trustProxyWarning(config.server.trustProxy)
  if (proxyWarning) log.warn({ event: 'config.trust_proxy' }, proxyWarning)

  let demo: Demo | undefined
  if (config.mode === 'demo') {
    demo = await startDemo(config)
    config = demo.config
  }
  const metrics = createMetrics({ defaultMetrics: true })
  let services
  try {
    services = createServices(config, {
      log,
      metrics,
      ...(demo ? { keySource: demo.keySource } : {}),
    })
  } catch (err) {
    await demo?.close()
    if (err instanceof StartupError) fail(err.problems)
    throw err
  }
  const app = createApp(services, demo ? { demo: demo.router } : {})
  const { port, host, metricsPort } = config.server
  const server = await listenAs('main', listen(app, config.server, port, host), host, port)
  const address = server.address()
  // A wildcard listen address is not something to type in a browser.
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const url = `http://${shownHost}:${typeof address === 'object' && address ? address.port : port}`

  const drains: Drain[] = [trackForDrain(server)]
  // With a port of its own, /metrics is served there only (createApp leaves it out).
  if (metricsPort !== null) {
    const metricsServer = await listenAs(
      'metrics',
      listen(createMetricsApp(metrics.registry), config.server, metricsPort, host),
      host,
      metricsPort,
    )
    drains.push(trackForDrain(metricsServer))
  }
  services.watch()

  log.info(
    {
      event: 'server.started',
      url,
      mode: config.mode,
      thoughtspot: config.thoughtspot.host,
      authApi: config.thoughtspot.authApi,
      metrics: metricsPort === null ? 'main port' : metricsPort,
    },
    'thoughtspot-bff listening',
  )
  if (demo) {
    process.stdout.write(
      [
        '',
        'thoughtspot-bff is running in DEMO MODE (no TS_HOST set):',
        `  - started a local ThoughtSpot simulator at ${demo.simulator.url}`,
        '  - made a demo identity provider (HS256 key generated at start) with users alice, bob and carol',
        `  - mapping users to groups from ${config.mappingFile}`,
        '',
        `  Open the demo page: ${url}/`,
        '',
        'Set TS_HOST (and the settings in README.md) to use a real ThoughtSpot. Ctrl-C stops.',
        '',
      ].join('\n'),
    )
  }

  const timeoutMs = config.server.shutdownTimeoutMs
  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    const inFlight = drains[0]?.inFlight() ?? 0
    log.info(
      { event: 'server.stopping', signal, inFlight, timeoutMs },
      'stopping: no new connections, finishing the requests in flight',
    )
    // Should closing Redis or the audit file hang, the process still ends.
    setTimeout(() => process.exit(1), timeoutMs + STOP_SLACK_MS).unref()
    services.drain()
    const results = await Promise.all(drains.map((drain) => drain.close(timeoutMs)))
    const cut = results.reduce((sum, result) => sum + result.cut, 0)
    if (cut > 0) {
      log.warn(
        { event: 'server.stop_forced', cut, timeoutMs },
        'requests still running at server.shutdownTimeoutMs were cut',
      )
    }
    await Promise.allSettled([services.close(), demo?.close()])
    log.info({ event: 'server.stopped', signal }, 'stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

/** Which setting names each listener's port, for the message when it cannot listen. */
const PORT_SETTING = { main: 'PORT or server.port', metrics: 'server.metricsPort' } as const

/** What a listen error code means for the operator. */
const LISTEN_CAUSES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use by another process',
  EACCES: 'this user may not listen on the port (below 1024 needs privileges)',
  EADDRNOTAVAIL: 'the address is not one of this machine (HOST or server.host)',
}

/** A listener that could not be opened, named by which one it is and where. */
class ListenError extends Error {
  override readonly name = 'ListenError'
}

/** Awaits `listening`; a failure names the listener, its address and the setting behind it. */
async function listenAs(
  listener: keyof typeof PORT_SETTING,
  listening: Promise<Server>,
  host: string,
  port: number,
): Promise<Server> {
  try {
    return await listening
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error'
    const why = LISTEN_CAUSES[code] ?? (err instanceof Error ? err.message : String(err))
    throw new ListenError(
      `${listener} listener on ${host}:${port} (${PORT_SETTING[listener]}): ${why}; cannot listen: ${code}`,
    )
  }
}

/** How long after the shutdown deadline closing the state and files may take. */
const STOP_SLACK_MS = 5000

main().catch((err: unknown) => {
  // One line, never a stack trace: the listener's own sentence, or the error's type and message.
  const message =
    err instanceof ListenError
      ? err.message
      : `failed to start: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`
  process.stderr.write(`thoughtspot-bff: ${message}\n`)
  process.exit(1)
})
