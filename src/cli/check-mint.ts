/**
 * `--user NAME` / `--claims JSON`: one real mint for that user with the configured secret key,
 * the mapping applied exactly as at login (groups, org, access level, row filters), through the
 * BFF's own trusted-auth client; then the token is revoked. It proves the key, that trusted
 * authentication is enabled for the cluster or org, and what ThoughtSpot makes of this user.
 * With `autoCreate` the user is created or updated in ThoughtSpot, as their next login would.
 * The token itself is never printed.
 */
import type { Config } from '../config/load.js'
import { BffError } from '../errors.js'
import { normaliseUsername, profileClaim } from '../identity/username.js'
import { evaluateMapping, type Access } from '../mapping/evaluate.js'
import type { LoadedMapping } from '../mapping/schema.js'
import { createLogger } from '../observability/logger.js'
import { createMetrics } from '../observability/metrics.js'
import { createTsAuthClient, mintApiFor, type MintedToken } from '../upstream/auth-client.js'
import { describeTransportFailure } from '../upstream/answers.js'
import { unlimitedBudget } from '../upstream/budget.js'
import { createUpstreamFetch, UpstreamRefusal } from '../upstream/fetch.js'
import { EXIT, failed, passed, skipped, type CheckResult } from './check-report.js'

/** Who to mint for, from the command line. */
export interface MintSubject {
  claims: Record<string, unknown>
  objectId: string | null
}

const API_PATHS = {
  'v2-full': 'REST v2 auth/token/full',
  'v2-object': 'REST v2 auth/token/object',
  'v2-custom': 'REST v2 auth/token/custom',
  v1: 'REST v1 session/auth/token',
} as const

/** Why a mint or revoke failed, in one sentence; never anything of a request body. */
export function whyFailed(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined
  if (cause instanceof UpstreamRefusal) return cause.message
  if (err instanceof BffError && cause !== undefined) {
    return `${err.message} (${describeTransportFailure(cause).cause})`
  }
  return err instanceof Error ? err.message : String(err)
}

function describeAccess(access: Access): string {
  const groups = access.groups.length > 0 ? access.groups.join(', ') : 'none'
  const filters = access.filterRules.length + access.variableValues.length
  return `org ${access.orgId}, groups ${groups}, ${access.accessLevel}, autoCreate ${access.autoCreate}${filters > 0 ? `, ${filters} row filter(s)` : ''}`
}

type Mapped = { username: string; access: Access } | { refused: CheckResult }

function mapSubject(config: Config, mapping: LoadedMapping, subject: MintSubject): Mapped {
  const { usernameClaim, usernameCase } = config.identity
  const raw = subject.claims[usernameClaim]
  const text = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : raw
  const refuse = (detail: string): Mapped => ({
    refused: failed('mint', EXIT.userRefused, `${detail}; nothing minted`),
  })
  if (typeof text !== 'string') return refuse(`the "${usernameClaim}" claim is missing`)
  const normalised = normaliseUsername(text, usernameCase)
  if ('problem' in normalised)
    return refuse(`the username ${normalised.problem} (401 INVALID_TOKEN)`)
  const { username } = normalised
  const result = evaluateMapping(mapping, username, subject.claims)
  switch (result.outcome) {
    case 'mapped':
      return { username, access: result.access }
    case 'not-mapped':
      return refuse(
        `${username} is not mapped (no default, no rule, no users entry: 403 NOT_MAPPED)`,
      )
    case 'denied':
      return refuse(
        result.reason === 'rule'
          ? `${username} is denied by rules[${result.rule}] (403 DENIED)`
          : `${username} is denied: the "${result.claim}" claim ${result.problem} (403 DENIED)`,
      )
  }
}

/** Mints for `subject` and revokes the token; `config` is valid and ThoughtSpot answered. */
export async function checkMint(
  config: Config,
  mapping: LoadedMapping,
  subject: MintSubject,
  onToken: (token: string) => void,
): Promise<CheckResult> {
  const mapped = mapSubject(config, mapping, subject)
  if ('refused' in mapped) return mapped.refused
  const { username, access } = mapped
  const { objectId } = subject
  if (access.accessLevel !== 'FULL' && objectId === null) {
    return skipped(
      'mint',
      `${username} is mapped to ${access.accessLevel} (object tokens only): add --object-id <GUID> to mint one`,
    )
  }
  const { thoughtspot } = config
  const upstream = createUpstreamFetch({
    timeoutMs: thoughtspot.timeoutMs,
    log: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    budget: unlimitedBudget,
  })
  const client = createTsAuthClient({
    host: thoughtspot.host ?? '',
    secretKeyFor: () => config.secrets.tsSecretKey,
    authApi: thoughtspot.authApi,
    fetch: upstream,
  })
  const api = mintApiFor(thoughtspot.authApi, { access, objectId })
  const asked = Date.now()
  let minted: MintedToken
  try {
    minted = await client.mint({
      username,
      email: profileClaim(subject.claims, config.identity.emailClaim, 'email'),
      displayName: profileClaim(subject.claims, config.identity.displayNameClaim, 'name'),
      access,
      objectId,
      validitySeconds: config.tokens.validitySeconds,
    })
  } catch (err) {
    return failed('mint', EXIT.dependency, `mint for ${username} failed: ${whyFailed(err)}`, {
      notes: [`called ${API_PATHS[api]} for ${username} (${describeAccess(access)})`],
    })
  }
  onToken(minted.token)
  const what = `minted a token for ${username} through ${API_PATHS[api]} (${describeAccess(access)}), valid until ${new Date(minted.expiresAt).toISOString()}`
  const warnings = clockWarning(minted, asked, config.tokens.validitySeconds)
  if (api === 'v1') {
    return passed('mint', `${what}; REST v1 tokens cannot be revoked: it ends within 5 minutes`, {
      warnings,
    })
  }
  try {
    await client.revoke(minted.token)
  } catch (err) {
    return failed('mint', EXIT.dependency, `${what}, but revoking it failed: ${whyFailed(err)}`, {
      warnings,
    })
  }
  return passed('mint', `${what}; revoked it`, { warnings })
}

/** ThoughtSpot's expiry far from "asked + validity" means one of the two clocks is off. */
function clockWarning(minted: MintedToken, asked: number, validitySeconds: number): string[] {
  if (minted.api === 'v1') return []
  const offSeconds = Math.round((minted.expiresAt - (asked + validitySeconds * 1000)) / 1000)
  return Math.abs(offSeconds) > 60
    ? [
        `the token expires ${Math.abs(offSeconds)} s ${offSeconds > 0 ? 'later' : 'earlier'} than asked: ThoughtSpot's clock or this machine's is off (tokens are cached by their expiry)`,
      ]
    : []
}
