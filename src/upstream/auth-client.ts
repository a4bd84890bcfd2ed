/**
 * ThoughtSpot's trusted-auth calls (docs/THOUGHTSPOT.md, "Minting"): mint through REST v2
 * `auth/token/full|object|custom` or REST v1 `session/auth/token`, and revoke. Every answer is
 * normalised to `MintedToken`. The request body holds the secret key, so no error built here
 * carries anything of the request or of ThoughtSpot's answer beyond its status.
 */
import { BffError } from '../errors.js'
import type { Access } from '../mapping/evaluate.js'
import type { UpstreamFetch } from './fetch.js'

/** Which ThoughtSpot call minted a token. */
export type MintApi = 'v2-full' | 'v2-object' | 'v2-custom' | 'v1'

/** Who to mint for, and how. */
export interface MintRequest {
  username: string
  email: string | null
  displayName: string | null
  access: Access
  /** Object GUID for an object-scoped (REPORT_BOOK_VIEW) token. */
  objectId: string | null
  validitySeconds: number
}

/** A token ThoughtSpot minted, normalised over the four APIs. */
export interface MintedToken {
  token: string
  /** Epoch ms. */
  expiresAt: number
  api: MintApi
}

/** ThoughtSpot's trusted-auth calls. */
export interface TsAuthClient {
  mint(request: MintRequest): Promise<MintedToken>
  /** Revokes one v2 token (best effort at logout). */
  revoke(token: string): Promise<void>
}

/** Options of {@link createTsAuthClient}. */
export interface TsAuthClientOptions {
  host: string
  /** The trusted-auth secret key to mint in `orgId` with: read at each mint (rotation, per-org keys). */
  secretKeyFor: (orgId: number) => string
  authApi: 'v2' | 'v1'
  fetch: UpstreamFetch
  now?: () => number
}

/** Which API a mint uses: v1 when configured; else custom for attribute users, object for a GUID. */
export function mintApiFor(
  authApi: 'v2' | 'v1',
  request: Pick<MintRequest, 'access' | 'objectId'>,
): MintApi {
  if (authApi === 'v1') return 'v1'
  if (request.objectId !== null) return 'v2-object'
  const { filterRules, variableValues } = request.access
  return filterRules.length > 0 || variableValues.length > 0 ? 'v2-custom' : 'v2-full'
}

function profile(request: MintRequest): Record<string, string> {
  return {
    ...(request.email ? { email: request.email } : {}),
    ...(request.displayName ? { display_name: request.displayName } : {}),
  }
}

/** The JSON body of a v2 mint; `secret_key` is added by the caller at the last moment. */
export function v2MintBody(
  api: Exclude<MintApi, 'v1'>,
  request: MintRequest,
): Record<string, unknown> {
  const { access } = request
  const common = {
    username: request.username,
    validity_time_in_sec: request.validitySeconds,
    auto_create: access.autoCreate,
    ...profile(request),
  }
  if (api === 'v2-custom') {
    return {
      ...common,
      org_identifier: String(access.orgId),
      persist_option: 'REPLACE',
      groups: access.groups.map((identifier) => ({ identifier })),
      ...(access.filterRules.length > 0 ? { filter_rules: access.filterRules } : {}),
      ...(access.variableValues.length > 0 ? { variable_values: access.variableValues } : {}),
    }
  }
  return {
    ...common,
    org_id: access.orgId,
    group_identifiers: access.groups,
    ...(api === 'v2-object' ? { object_id: request.objectId } : {}),
  }
}

/** The form of a v1 mint (`session/auth/token`), without the secret key. */
export function v1MintForm(request: MintRequest): Record<string, string> {
  const { access } = request
  return {
    username: request.username,
    access_level: request.objectId !== null ? 'REPORT_BOOK_VIEW' : 'FULL',
    ...(request.objectId !== null ? { id: request.objectId } : {}),
    orgid: String(access.orgId),
    autocreate: String(access.autoCreate),
    groups: JSON.stringify(access.groups),
    ...profile(request),
  }
}

/** Longest token accepted from ThoughtSpot; real ones are a few hundred characters. */
const MAX_TOKEN_LENGTH = 8192

/**
 * What a token may be made of: visible ASCII only. A token goes into an `Authorization` header
 * and a `text/plain` body; anything else (whitespace, controls, non-ASCII) would break every
 * proxied call of the user, or worse, inject into a header.
 */
const TOKEN_CHARS = /^[\x21-\x7e]+$/

/** True when `token` is something the BFF may hand out and send as a bearer credential. */
export function isUsableToken(token: unknown): token is string {
  return typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH && TOKEN_CHARS.test(token)
}

/** The longest a v1 token is counted on to live (ThoughtSpot answers no expiry for v1). */
const V1_TOKEN_LIFE_SECONDS = 300

function readMintResponse(json: unknown): { token: string; expiresAt: number } | null {
  if (json === null || typeof json !== 'object') return null
  const body = json as Record<string, unknown>
  const token = body.token
  const expiresAt = body.expiration_time_in_millis
  if (!isUsableToken(token)) return null
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return null
  // Token (full/object) and AccessToken (custom) share these two fields; nothing else is needed.
  return { token, expiresAt }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await readText(response)
  try {
    return text === null ? null : (JSON.parse(text) as unknown)
  } catch {
    // A 200 whose body is not JSON after all: a broken answer, never a 500.
    return null
  }
}

/**
 * The answer's body as text, or null when it cannot be read whole: the connection dropped
 * before the body its Content-Length announced, or the call's deadline passed mid-body. Either is
 * a broken answer, never a 500.
 */
async function readText(response: Response): Promise<string | null> {
  try {
    return await response.text()
  } catch {
    return null
  }
}

/** The trusted-auth client. */
export function createTsAuthClient(options: Readonly<TsAuthClientOptions>): TsAuthClient {
  const { host, secretKeyFor, authApi, fetch } = options
  const now = options.now ?? Date.now

  async function mintV2(api: Exclude<MintApi, 'v1'>, request: MintRequest): Promise<MintedToken> {
    const path = api === 'v2-full' ? 'full' : api === 'v2-object' ? 'object' : 'custom'
    const response = await fetch(`${host}/api/rest/2.0/auth/token/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        ...v2MintBody(api, request),
        secret_key: secretKeyFor(request.access.orgId),
      }),
      purpose: 'mint',
    })
    const minted = readMintResponse(await readJson(response))
    if (!minted) throw badAnswer()
    return { ...minted, api }
  }

  async function mintV1(request: MintRequest): Promise<MintedToken> {
    const response = await fetch(`${host}/callosum/v1/tspublic/v1/session/auth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/plain',
        'x-requested-by': 'ThoughtSpot',
      },
      body: new URLSearchParams({
        ...v1MintForm(request),
        secret_key: secretKeyFor(request.access.orgId),
      }).toString(),
      purpose: 'mint',
      expect: 'text',
    })
    const token = (await readText(response))?.trim()
    if (!isUsableToken(token)) throw badAnswer()
    // v1 answers no expiry: a v1 token lives until 5 minutes after the next mint with the same
    // key (docs/THOUGHTSPOT.md, "REST v1 tokens"), so the BFF counts on no more than that.
    return {
      token,
      expiresAt: now() + Math.min(request.validitySeconds, V1_TOKEN_LIFE_SECONDS) * 1000,
      api: 'v1',
    }
  }

  return {
    mint(request) {
      const api = mintApiFor(authApi, request)
      return api === 'v1' ? mintV1(request) : mintV2(api, request)
    },
    async revoke(token) {
      await fetch(`${host}/api/rest/2.0/auth/token/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ token }),
        purpose: 'revoke',
      })
    },
  }
}

function badAnswer(): BffError {
  return new BffError(
    'UPSTREAM_AUTH_FAILED',
    'ThoughtSpot answered the mint without a usable token.',
  )
}
