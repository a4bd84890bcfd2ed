/**
 * The check command: finds a misconfiguration before users do. It reads the configuration from
 * the same environment and files as the BFF, then checks, in order, the config (every problem at
 * once), the identity key source, that ThoughtSpot answers, and — with `--user` — a real mint
 * and revoke. A check that cannot run because an earlier one failed is skipped, saying why.
 */
import { parseArgs } from 'node:util'
import { checkConfig } from './check-config.js'
import { checkIdentity } from './check-identity.js'
import { checkMint, type MintSubject } from './check-mint.js'
import {
  EXIT,
  exitCodeOf,
  renderJson,
  renderText,
  scrubber,
  skipped,
  type CheckResult,
} from './check-report.js'
import { checkThoughtSpot, PROBE_PATH } from './check-thoughtspot.js'

type Env = Readonly<Record<string, string | undefined>>

const USAGE = `usage: npm run check -- [--user <name>] [--claims '<json>'] [--object-id <guid>] [--json]
       node dist/src/cli/check.js …   (in the Docker image; also the thoughtspot-bff-check bin)

Checks the BFF's configuration from the same environment and files as \`npm start\`:
  config       config file, environment, secrets, allowlist, mapping, identity key file:
               every problem at once, sorted by file and line; the warnings a start would log
  identity     fetches the JWKS (keys, algorithms, kids) or reads the key file
  thoughtspot  GET ${PROBE_PATH} without credentials: any answer from
               ThoughtSpot's API (401) proves TS_HOST, the network path and TLS
  mint         only with --user or --claims: a real mint for that user with the configured
               secret key and the mapping applied, then the token is revoked; proves the key and
               that trusted auth is enabled for the cluster or org. With autoCreate the user is
               created or updated in ThoughtSpot, as at their next login. Never printed: secrets,
               the token.
options:
  --user <name>      the username to mint for (sets the username claim)
  --claims '<json>'  the app JWT claims the mapping sees, e.g. '{"sub":"a@acme.com","roles":["analyst"]}'
  --object-id <guid> mint an object-scoped token (users mapped to REPORT_BOOK_VIEW need one)
  --json             one JSON object on stdout: {ok, exitCode, checks: [{name, ok, skipped, detail,
                     problems, warnings, notes}]}
  -h, --help         print this and exit 0
exit codes: 0 ok (warnings allowed), 1 the configuration is invalid, 2 bad arguments,
            3 a dependency is unreachable or refused (identity provider, ThoughtSpot, the mint),
            4 the mapping would refuse the given user (nothing minted)`

/** What a run prints and its exit code; the entry writes them, tests read them. */
export interface CheckRun {
  code: number
  out: string
  err: string
}

const usageError = (message: string): CheckRun => ({
  code: EXIT.usage,
  out: '',
  err: `thoughtspot-bff check: ${message}\n${USAGE}\n`,
})

function parseClaims(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return {}
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** Who `--user`/`--claims`/`--object-id` ask to mint for. */
interface Wanted {
  user: string | undefined
  claims: Record<string, unknown>
  objectId: string | null
}

type Parsed = { json: boolean; wanted: Wanted | null } | { run: CheckRun }

function parse(argv: readonly string[]): Parsed {
  let values
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean', default: false },
        user: { type: 'string' },
        claims: { type: 'string' },
        'object-id': { type: 'string' },
      },
    }).values
  } catch (err) {
    return { run: usageError(err instanceof Error ? err.message : String(err)) }
  }
  if (values.help === true) return { run: { code: EXIT.ok, out: `${USAGE}\n`, err: '' } }
  const claims = parseClaims(values.claims)
  if (claims === undefined) return { run: usageError('--claims must be a JSON object') }
  const objectId = values['object-id'] ?? null
  const wanted = values.user !== undefined || values.claims !== undefined
  if (!wanted && objectId !== null)
    return { run: usageError('--object-id needs --user or --claims') }
  return { json: values.json, wanted: wanted ? { user: values.user, claims, objectId } : null }
}

/** Runs every check on `env` (the process environment) and returns the report. */
export async function runCheck(argv: readonly string[], env: Env): Promise<CheckRun> {
  const parsed = parse(argv)
  if ('run' in parsed) return parsed.run
  const secrets: string[] = []
  const scrub = scrubber(() => secrets)
  const results: CheckResult[] = []

  const { result, loaded } = checkConfig(env)
  results.push(result)
  if (!loaded) {
    for (const name of ['identity', 'thoughtspot', 'mint'] as const) {
      results.push(skipped(name, 'the configuration is invalid'))
    }
  } else {
    const { config, mapping } = loaded
    const { tsSecretKey, sessionSecrets, identityHs256Secret } = config.secrets
    secrets.push(
      tsSecretKey,
      ...sessionSecrets,
      ...(identityHs256Secret ? [identityHs256Secret] : []),
    )
    if (config.mode === 'demo') {
      const why = 'demo mode (no TS_HOST): the BFF starts its own simulator and identity provider'
      for (const name of ['identity', 'thoughtspot', 'mint'] as const)
        results.push(skipped(name, why))
    } else {
      const [identity, thoughtspot] = await Promise.all([
        checkIdentity(config),
        checkThoughtSpot(config),
      ])
      results.push(identity, thoughtspot)
      const { wanted } = parsed
      if (wanted === null) {
        results.push(skipped('mint', 'not asked: --user <name> mints a real token and revokes it'))
      } else if (!thoughtspot.ok) {
        results.push(skipped('mint', 'ThoughtSpot did not answer'))
      } else {
        const subject: MintSubject = {
          // --user is the username claim, over whatever --claims says.
          claims:
            wanted.user === undefined
              ? wanted.claims
              : { ...wanted.claims, [config.identity.usernameClaim]: wanted.user },
          objectId: wanted.objectId,
        }
        results.push(await checkMint(config, mapping, subject, (token) => secrets.push(token)))
      }
    }
  }
  const code = exitCodeOf(results)
  const out = parsed.json ? renderJson(results, code) : renderText(results, code)
  return { code, out: scrub(out), err: '' }
}
