/**
 * Demo mode: with no configuration at all, start the built-in ThoughtSpot simulator on
 * loopback, make a demo identity provider (an HS256 key made at start), and point the BFF at both.
 * Never entered in production: `loadConfig` only chooses demo mode outside it.
 */
import { randomBytes } from 'node:crypto'
import type { Router } from 'express'
import { deepFreeze, type Config } from '../config/load.js'
import { hs256Source, type KeySource } from '../identity/keys.js'
import { startSimulator, type Simulator } from '../simulator/server.js'
import { demoRoutes } from './routes.js'
import { DEMO_AUDIENCE, DEMO_ISSUER } from './users.js'

/** What demo mode adds to a normal start: its config, IdP key, page and simulator. */
export interface Demo {
  config: Config
  keySource: KeySource
  router: Router
  simulator: Simulator
  close(): Promise<void>
}

/** Groups the demo mapping uses; the simulator knows them so no empty group is created. */
const DEMO_GROUPS = ['embed_viewers', 'analysts', 'executives']
/** The second org of config/mapping.yaml (Globex users): ThoughtSpot refuses unknown orgs. */
const DEMO_ORGS = [42]

/**
 * Origins that may embed the simulator: the demo page's own (as browsers may spell it) and every
 * CORS origin, since an app there embeds the same ThoughtSpot. With port 0 the page's origin is
 * not known yet; only the listed ones are.
 */
export function embeddingOrigins(server: Config['server']): string[] {
  const origins = new Set<string>(server.cors.origins)
  if (server.publicOrigin) origins.add(new URL(server.publicOrigin).origin)
  if (server.port !== 0) {
    const loopback = ['0.0.0.0', '::', '127.0.0.1', 'localhost'].includes(server.host)
    for (const host of loopback ? ['127.0.0.1', 'localhost'] : [server.host]) {
      origins.add(`http://${host.includes(':') ? `[${host}]` : host}:${server.port}`)
    }
  }
  return [...origins]
}

/** Starts the simulator and the demo IdP, and returns the config that points the BFF at them. */
export async function startDemo(config: Config): Promise<Demo> {
  const tsSecretKey = randomBytes(24).toString('base64url')
  const idpSecret = randomBytes(32).toString('base64url')
  const simulator = await startSimulator({
    secretKey: tsSecretKey,
    groups: DEMO_GROUPS,
    orgs: DEMO_ORGS,
    embedOrigins: embeddingOrigins(config.server),
    quiet: true,
  })
  const demoConfig = deepFreeze({
    ...config,
    thoughtspot: { ...config.thoughtspot, host: simulator.url },
    identity: { ...config.identity, issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE },
    secrets: { ...config.secrets, tsSecretKey, identityHs256Secret: idpSecret },
  })
  return {
    config: demoConfig,
    keySource: hs256Source(idpSecret),
    router: demoRoutes(idpSecret, { thoughtSpotHost: simulator.url, bffUrl: '' }),
    simulator,
    close: () => simulator.close(),
  }
}
