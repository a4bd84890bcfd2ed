/**
 * The checks that need more than one key, or another file: the proxy allowlist, the mapping file
 * against this config, the identity key source, and the settings production requires. Each
 * returns problems (one line each) so the loader reports them all at once.
 */
import { allowlistProblems } from '../proxy/allowlist.js'
import { keySourceProblems } from '../identity/keys.js'
import { loadMappingFile, type LoadedMapping } from '../mapping/schema.js'
import { DEMO_SESSION_COOKIE_NAME, SESSION_COOKIE_NAME, type FileConfig } from './schema.js'
import type { MisspeltVariable } from './env.js'
import type { ReadSecrets } from './secrets.js'

/** Required outside demo mode, named by the variable an operator would set. */
export const REQUIRED_SETTINGS = [
  'TS_HOST',
  'TS_SECRET_KEY',
  'SESSION_SECRET',
  'IDENTITY_JWKS_URL | IDENTITY_PUBLIC_KEY_FILE | IDENTITY_HS256_SECRET',
  'IDENTITY_ISSUER',
  'IDENTITY_AUDIENCE',
] as const

/** The identity key sources that are set, by variable name. */
export function keySourcesSet(file: FileConfig, secrets: ReadSecrets): string[] {
  return [
    file.identity.jwksUrl ? 'IDENTITY_JWKS_URL' : null,
    file.identity.publicKeyFile ? 'IDENTITY_PUBLIC_KEY_FILE' : null,
    secrets.identityHs256Secret ? 'IDENTITY_HS256_SECRET' : null,
  ].filter((item): item is string => item !== null)
}

/** What the required-settings check looks at besides the parsed file. */
export interface RequiredContext {
  production: boolean
  /**
   * Secrets that were given but could not be read (both `X` and `X_FILE`, an empty or unreadable
   * file): their own problem says so, so they do not count as missing as well.
   */
  unreadSecrets: ReadonlySet<string>
  /** Set variables that look like a misspelling of a known one, for a hint on what is missing. */
  misspelt: readonly MisspeltVariable[]
}

/** Missing required settings (outside demo mode), as one problem line, or none. */
export function requiredProblems(
  file: FileConfig,
  secrets: ReadSecrets,
  context: RequiredContext,
): string[] {
  const { production, unreadSecrets } = context
  const present: Record<(typeof REQUIRED_SETTINGS)[number], boolean> = {
    TS_HOST: file.thoughtspot.host !== null,
    TS_SECRET_KEY: secrets.tsSecretKey !== null || unreadSecrets.has('TS_SECRET_KEY'),
    // Outside production a random one is made (with a warning).
    SESSION_SECRET:
      secrets.sessionSecrets.length > 0 || unreadSecrets.has('SESSION_SECRET') || !production,
    'IDENTITY_JWKS_URL | IDENTITY_PUBLIC_KEY_FILE | IDENTITY_HS256_SECRET':
      keySourcesSet(file, secrets).length > 0 || unreadSecrets.has('IDENTITY_HS256_SECRET'),
    IDENTITY_ISSUER: file.identity.issuer !== null,
    IDENTITY_AUDIENCE: file.identity.audience !== null,
  }
  const missing = REQUIRED_SETTINGS.filter((name) => !present[name])
  if (missing.length === 0) return []
  const why = production ? 'NODE_ENV=production' : 'TS_HOST is set (not demo mode)'
  // A misspelt variable is most likely the missing setting: say so on the same line.
  const hints = context.misspelt
    .filter(({ meant }) => missing.some((name) => name.split(' | ').includes(baseName(meant))))
    .map(({ name, meant }) => `${name} is set: did you mean ${meant}?`)
  const hint = hints.length > 0 ? ` (${hints.join('; ')})` : ''
  return [`missing required setting(s) (${why}): ${missing.join(', ')}${hint}`]
}

/** `TS_SECRET_KEY_FILE` → `TS_SECRET_KEY`: the setting a variable gives. */
function baseName(variable: string): string {
  return variable.endsWith('_FILE') && variable !== 'IDENTITY_PUBLIC_KEY_FILE'
    ? variable.slice(0, -'_FILE'.length)
    : variable
}

/** Settings that contradict each other. */
export function consistencyProblems(file: FileConfig, secrets: ReadSecrets): string[] {
  const problems: string[] = []
  const sources = keySourcesSet(file, secrets)
  if (sources.length > 1) {
    problems.push(`identity: ${sources.join(' and ')} are all set; choose one key source`)
  }
  const halfValidity = Math.floor(file.tokens.validitySeconds / 2)
  if (file.tokens.minRemainingSeconds > halfValidity) {
    problems.push(
      `tokens.minRemainingSeconds: ${file.tokens.minRemainingSeconds} is more than half of ` +
        `tokens.validitySeconds (${file.tokens.validitySeconds}); at most ${halfValidity}, or ` +
        'every token would be thrown away soon after it is minted',
    )
  }
  return problems
}

/** The mapping problems that come from this config: REST v1 cannot mint row filters. */
export function mappingFitsConfig(authApi: 'v2' | 'v1') {
  return (loaded: LoadedMapping): string[] =>
    authApi === 'v1' && loaded.mapping.attributes.length > 0
      ? [
          `${loaded.file}: attributes need TS_AUTH_API=v2 (auth/token/custom); v1 cannot mint row filters`,
        ]
      : []
}

/** The mapping file's problems, read as the BFF will read it. */
export function mappingProblems(mappingFile: string, authApi: 'v2' | 'v1'): string[] {
  const result = loadMappingFile(mappingFile)
  if ('problems' in result) return result.problems
  return mappingFitsConfig(authApi)(result.loaded)
}

/** Every cross-file problem of a config that passed its schema. */
export function crossFileProblems(
  file: FileConfig,
  where: { configFile: string; mappingFile: string },
): string[] {
  return [
    ...allowlistProblems(file.proxy.allow).map((problem) => `${where.configFile}: ${problem}`),
    ...mappingProblems(where.mappingFile, file.thoughtspot.authApi),
    ...(file.identity.publicKeyFile ? keySourceProblems(file.identity.publicKeyFile) : []),
  ]
}

/**
 * The session cookie's name in `mode`: demo mode serves plain http, where browsers refuse a
 * `__Host-` cookie, so the default name becomes {@link DEMO_SESSION_COOKIE_NAME} there.
 */
export function sessionCookieName(configured: string, mode: 'demo' | 'normal'): string {
  return mode === 'demo' && configured === SESSION_COOKIE_NAME
    ? DEMO_SESSION_COOKIE_NAME
    : configured
}

/**
 * A `__Host-`/`__Secure-` cookie name where the cookie cannot be Secure (demo mode, plain http):
 * browsers would drop the cookie and every login would fail, so the start is refused instead.
 */
export function sessionCookieProblems(file: FileConfig, mode: 'demo' | 'normal'): string[] {
  const name = sessionCookieName(file.session.cookieName, mode)
  if (mode !== 'demo' || !/^__(?:host|secure)-/i.test(name)) return []
  return [
    `session.cookieName: "${name}" needs a Secure cookie, but demo mode serves plain http; ` +
      `choose a name without the __Host-/__Secure- prefix or leave the default`,
  ]
}
