/**
 * Demo mode (SPEC §2): with no configuration at all, start the built-in ThoughtSpot simulator on
 * loopback, make a demo identity provider (an HS256 key made at start), and point the BFF at both.
 * Never entered in production: `loadConfig` only chooses demo mode outside it.
 */
import { randomBytes } from 'node:crypto'
import type { Router } from 'express'
import { deepFreeze, type Config } from '../config/load.js'
import { hs256Source, type KeySource } from '../identity/keys.js'
import { startSimulator, type Simulator } from '../simulator/server.js'
import { demoRoutes, DEMO_AUDIENCE, DEMO_ISSUER } from './routes.js'

export interface Demo {
  config: Config
  keySource: KeySource
  router: Router
  simulator: Simulator
  close(): Promise<void>
}

/** Groups the demo mapping uses; the simulator knows them so no empty group is created. */
const DEMO_GROUPS = ['embed_viewers', 'analysts', 'executives']

export async function startDemo(config: Config): Promise<Demo> {
  const tsSecretKey = randomBytes(24).toString('base64url')
  const idpSecret = randomBytes(32).toString('base64url')
  const simulator = await startSimulator({
    secretKey: tsSecretKey,
    groups: DEMO_GROUPS,
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
    router: demoRoutes(idpSecret),
    simulator,
    close: () => simulator.close(),
  }
}
