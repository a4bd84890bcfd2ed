/**
 * The config and mapping files the bench gives the BFF. Every limit that is not what a scenario
 * measures is raised out of the way; tokens and sessions live a day so nothing expires mid-run.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'

/** throughput: no limit bites; storm: the shipped upstream budget; memory: mints unthrottled. */
export type ConfigKind = 'throughput' | 'storm' | 'memory'

/** The shipped `thoughtspot.maxRequestsPerSecond`; the storms run with it. */
export const DEFAULT_UPSTREAM_RPS = 80

const OUT_OF_THE_WAY = 1_000_000_000

const MAPPING = `default:
  groups: [embed_viewers]
  orgId: 0
`

function configFor(kind: ConfigKind, metricsPort: number | null): Record<string, unknown> {
  const budget =
    kind === 'storm'
      ? // The shipped defaults, written out so the report states what was in force.
        { maxConcurrency: 64, maxRequestsPerSecond: DEFAULT_UPSTREAM_RPS, queueTimeoutMs: 2000 }
      : { maxConcurrency: 1024, maxRequestsPerSecond: OUT_OF_THE_WAY, queueTimeoutMs: 2000 }
  return {
    server: { trustProxy: true, metricsPort },
    thoughtspot: { timeoutMs: 10_000, ...budget },
    tokens: { validitySeconds: 86_400, minRemainingSeconds: 120 },
    session: { ttlSeconds: 86_400 },
    rateLimits: {
      perIpPerMinute: OUT_OF_THE_WAY,
      perUserPerMinute: OUT_OF_THE_WAY,
      mintsPerUserPerMinute: OUT_OF_THE_WAY,
    },
    proxy: {
      allow: [
        { method: 'POST', path: '/api/rest/2.0/searchdata' },
        { method: 'POST', path: '/api/rest/2.0/metadata/search' },
      ],
    },
  }
}

/**
 * Writes `<name>.yaml` and the mapping into `dir`; returns their paths. `metricsPort` serves
 * /metrics (heap figures) on its own port; null = off.
 */
export function writeBffFiles(
  dir: string,
  name: string,
  kind: ConfigKind,
  metricsPort: number | null,
): { config: string; mapping: string } {
  const config = join(dir, `${name}.yaml`)
  const mapping = join(dir, 'mapping.yaml')
  writeFileSync(config, YAML.stringify(configFor(kind, metricsPort)))
  writeFileSync(mapping, MAPPING)
  return { config, mapping }
}
