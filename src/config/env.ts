/**
 * The fixed environment variables of SPEC §2 and where each lands in the config. Environment
 * variables override the YAML file; secrets never go into the config tree (see `readSecrets`).
 */
import { readFileSync } from 'node:fs'
import { nearestName } from './yaml-file.js'

type Env = Readonly<Record<string, string | undefined>>

/** Parses one variable's text into the value the schema expects at `path`. */
type Parse = (raw: string) => unknown

const text: Parse = (raw) => raw.trim()
const integer: Parse = (raw) => (/^\s*\d+\s*$/.test(raw) ? Number(raw) : raw)
const list: Parse = (raw) =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)

/** Non-secret variables: name → [config path, parser]. */
export const ENV_OVERRIDES: Readonly<Record<string, readonly [readonly string[], Parse]>> = {
  PORT: [['server', 'port'], integer],
  HOST: [['server', 'host'], text],
  TS_HOST: [['thoughtspot', 'host'], text],
  TS_AUTH_API: [['thoughtspot', 'authApi'], text],
  TS_TOKEN_VALIDITY_SECONDS: [['tokens', 'validitySeconds'], integer],
  REDIS_URL: [['redis', 'url'], text],
  IDENTITY_JWKS_URL: [['identity', 'jwksUrl'], text],
  IDENTITY_PUBLIC_KEY_FILE: [['identity', 'publicKeyFile'], text],
  IDENTITY_ISSUER: [['identity', 'issuer'], text],
  IDENTITY_AUDIENCE: [['identity', 'audience'], text],
  IDENTITY_USERNAME_CLAIM: [['identity', 'usernameClaim'], text],
  CORS_ORIGINS: [['server', 'cors', 'origins'], list],
  LOG_LEVEL: [['logging', 'level'], text],
}

/** The secrets' variables; each may also be given as `NAME_FILE`. */
export const SECRET_VARIABLES = [
  'TS_SECRET_KEY',
  'SESSION_SECRET',
  'IDENTITY_HS256_SECRET',
] as const

/** Every variable the BFF reads, besides `NODE_ENV`: the "did you mean" candidates. */
export const KNOWN_VARIABLES: readonly string[] = [
  ...Object.keys(ENV_OVERRIDES),
  'BFF_CONFIG',
  'BFF_MAPPING',
  ...SECRET_VARIABLES.flatMap((name) => [name, `${name}_FILE`]),
]

/** Prefixes that mark a variable as meant for the BFF; a near miss under them gets a hint. */
const OWN_PREFIXES = ['TS_', 'IDENTITY_', 'SESSION_', 'BFF_']

/** A set variable the BFF does not read but whose name is close to one it does. */
export interface MisspeltVariable {
  name: string
  /** The known variable it is probably meant to be. */
  meant: string
}

/**
 * Set variables under the BFF's prefixes that it does not read but that are close to one it does
 * (`TS_SECRETKEY`, `IDENTITY_JWKS_URI`): the setting the operator meant is silently unset. Names
 * far from every known one are left alone: the prefixes are shared with other tools (`TS_NODE_*`).
 */
export function misspeltVariables(env: Env): MisspeltVariable[] {
  const found: MisspeltVariable[] = []
  for (const name of Object.keys(env).sort()) {
    if (!OWN_PREFIXES.some((prefix) => name.startsWith(prefix))) continue
    if (KNOWN_VARIABLES.includes(name) || !env[name]) continue
    const meant = nearestName(name, KNOWN_VARIABLES) ?? truncatedOrExtended(name)
    if (meant !== undefined) found.push({ name, meant })
  }
  return found
}

/**
 * A known name that `name` cuts short or runs on from (`TS_SECRET`, `TS_HOSTNAME`): too far for
 * the edit distance, yet plainly meant. The shared part must reach past the prefix.
 */
function truncatedOrExtended(name: string): string | undefined {
  const prefixLength = OWN_PREFIXES.find((prefix) => name.startsWith(prefix))?.length ?? 0
  return KNOWN_VARIABLES.filter((known) => {
    const shorter = known.length < name.length ? known : name
    const longer = shorter === known ? name : known
    return shorter.length >= prefixLength + 4 && longer.startsWith(shorter)
  }).sort((a, b) => Math.abs(a.length - name.length) - Math.abs(b.length - name.length))[0]
}

/** The warning for a misspelt variable; it is ignored, not refused (see README). */
export function misspeltWarning({ name, meant }: MisspeltVariable): string {
  return `environment variable ${name} is not read by the BFF (did you mean ${meant}?); it is ignored`
}

/**
 * Whether a secret was given at all (`NAME`, `NAME_FILE` or the YAML file key), even if it could
 * not be read: the read's own problem then says what is wrong, not also "missing NAME".
 */
export function secretGiven(env: Env, name: string, yamlFile: string | null): boolean {
  return Boolean(env[name] || env[`${name}_FILE`] || yamlFile)
}

/** Copies the set variables into `tree` and returns which config path came from which variable. */
export function applyEnvOverrides(tree: Record<string, unknown>, env: Env): Map<string, string> {
  const sources = new Map<string, string>()
  for (const [name, [path, parse]] of Object.entries(ENV_OVERRIDES)) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    let node = tree
    for (const key of path.slice(0, -1)) {
      const child = node[key]
      if (typeof child !== 'object' || child === null || Array.isArray(child)) node[key] = {}
      node = node[key] as Record<string, unknown>
    }
    node[path[path.length - 1] as string] = parse(raw)
    sources.set(path.join('.'), name)
  }
  return sources
}

/** Where one secret may come from: its variable, its `_FILE` variable, or a YAML `…File` key. */
export interface SecretSource {
  /** The inline variable, e.g. TS_SECRET_KEY. */
  name: string
  /** A file path from the YAML file (already resolved by the caller), if any. */
  yamlFile: string | null
  yamlKey: string
}

/** A secret as read: its value (null when none was given), or why it cannot be used. */
export type SecretResult = { value: string | null } | { problem: string }

/**
 * Reads `NAME` or `NAME_FILE` (or the YAML `…File` key). Files are trimmed of trailing whitespace,
 * as container secrets usually end with a newline. Setting two of them is contradictory.
 */
export function readSecret(env: Env, source: SecretSource): SecretResult {
  const inline = env[source.name]
  const fileVar = env[`${source.name}_FILE`]
  const given = [
    inline ? source.name : null,
    fileVar ? `${source.name}_FILE` : null,
    source.yamlFile ? source.yamlKey : null,
  ].filter((item): item is string => item !== null)
  if (given.length > 1) {
    return { problem: `${given.join(' and ')} are both set; set only one` }
  }
  if (inline) return { value: inline }
  const path = fileVar ?? source.yamlFile
  const origin = fileVar ? `${source.name}_FILE` : source.yamlKey
  if (!path) return { value: null }
  try {
    const value = readFileSync(path, 'utf8').replace(/\s+$/, '')
    if (value.length === 0) return { problem: `${origin}: file ${path} is empty` }
    return { value }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    return { problem: `${origin}: cannot read file ${path} (${code})` }
  }
}
