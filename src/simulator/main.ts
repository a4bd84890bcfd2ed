/**
 * CLI entry of the simulator (`npm run simulator`, the docker-compose "thoughtspot" service).
 *
 * SIM_PORT (default 8088), SIM_HOST (default 127.0.0.1), SIM_SECRET_KEY or SIM_SECRET_KEY_FILE
 * (one is required; the file's trailing whitespace is trimmed), SIM_GROUPS (comma list of groups
 * that exist), SIM_ORGS (comma list of extra org ids), SIM_EMBED_ORIGINS (comma list of the origins
 * of pages that embed it: CORS with credentials and framing). Prints one line with its URL; stops on
 * SIGTERM/SIGINT. A bad setting is one line on stderr and exit code 1.
 */
import { readFileSync } from 'node:fs'
import { startSimulator, type SimulatorOptions } from './server.js'

type Env = Readonly<Record<string, string | undefined>>

class SettingError extends Error {}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

function readSecretKey(env: Env): string {
  const inline = env.SIM_SECRET_KEY
  const file = env.SIM_SECRET_KEY_FILE
  if (inline && file) throw new SettingError('set SIM_SECRET_KEY or SIM_SECRET_KEY_FILE, not both')
  if (inline) return inline
  if (!file) throw new SettingError('SIM_SECRET_KEY or SIM_SECRET_KEY_FILE is required')
  let content: string
  try {
    content = readFileSync(file, 'utf8')
  } catch {
    throw new SettingError(`SIM_SECRET_KEY_FILE cannot be read: ${file}`)
  }
  // Container secrets usually end with a newline that is not part of the key.
  const key = content.trimEnd()
  if (key === '') throw new SettingError(`SIM_SECRET_KEY_FILE is empty: ${file}`)
  return key
}

function readPort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 8088
  const port = /^\d{1,5}$/.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!(port >= 0 && port <= 65_535)) throw new SettingError('SIM_PORT must be a port number')
  return port
}

function readOrgs(raw: string | undefined): number[] {
  return list(raw).map((item) => {
    if (!/^\d{1,10}$/.test(item) || Number(item) > 2_147_483_647) {
      throw new SettingError('SIM_ORGS must be a comma list of org ids (integers)')
    }
    return Number(item)
  })
}

/** The simulator's options from the environment; throws SettingError naming the variable. */
function optionsFromEnv(env: Env): SimulatorOptions {
  const groups = list(env.SIM_GROUPS)
  const embedOrigins = list(env.SIM_EMBED_ORIGINS)
  for (const origin of embedOrigins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new SettingError(
        'SIM_EMBED_ORIGINS must be a comma list of origins (scheme://host:port)',
      )
    }
  }
  return {
    secretKey: readSecretKey(env),
    host: env.SIM_HOST?.trim() || '127.0.0.1',
    port: readPort(env.SIM_PORT),
    orgs: readOrgs(env.SIM_ORGS),
    embedOrigins,
    ...(groups.length > 0 && { groups }),
  }
}

const USAGE = `usage: SIM_SECRET_KEY=<key> npm run simulator   (or node dist/src/simulator/main.js)
A local ThoughtSpot stand-in for demos, docker-compose and tests; configured by the environment:
  SIM_SECRET_KEY | SIM_SECRET_KEY_FILE  the trusted-auth secret key it accepts (one is required)
  SIM_PORT            listen port (default 8088; 0 = any free port)
  SIM_HOST            listen address (default 127.0.0.1)
  SIM_GROUPS          comma list of groups that exist (default embed_viewers, analysts, executives)
  SIM_ORGS            comma list of org ids that exist besides 0
  SIM_EMBED_ORIGINS   comma list of origins of pages that embed it (CORS and framing)
Prints "ThoughtSpot simulator listening on <url>"; SIGTERM/SIGINT stop it.
exit codes: 0 stopped (or --help), 1 a bad setting or cannot listen`

async function main(): Promise<void> {
  if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  let options: SimulatorOptions
  try {
    options = optionsFromEnv(process.env)
  } catch (error) {
    if (!(error instanceof SettingError)) throw error
    process.stderr.write(`ts-simulator: ${error.message}\n`)
    process.exit(1)
  }
  const simulator = await startSimulator(options).catch((error: unknown) => {
    process.stderr.write(`ts-simulator: cannot listen: ${String(error)}\n`)
    process.exit(1)
  })
  process.stdout.write(`ThoughtSpot simulator listening on ${simulator.url}\n`)
  const stop = () => {
    void simulator.close().then(() => process.exit(0))
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

await main()
