/**
 * The identity provider's JWKS: fetched by jose (cache, cooldown, refetch on an unknown `kid`)
 * through a fetch of ours that says what came back — the URL, the HTTP status, why the body is
 * not a usable key set — so a failure is logged as the identity provider's, never blamed on
 * ThoughtSpot. The keys are fetched at start and, until that first fetch succeeds, again in the
 * background while /readyz answers 503 naming the identity provider. After one success the
 * source stays ready: a later refresh that fails is logged, and only the tokens that need the
 * refreshed set (cache expired, unknown `kid`) fail until the provider answers again.
 */
import { createPublicKey } from 'node:crypto'
import { createRemoteJWKSet, customFetch, type FetchImplementation } from 'jose'
import type { Logger } from '../observability/logger.js'
import { describeTransportFailure, isTimeoutAbort } from '../upstream/answers.js'
import { EC_ALGS_BY_JWK_CURVE, EDDSA_ALGS, JWKS_ALGS, RSA_ALGS } from './algorithms.js'
import type { KeySource } from './keys.js'

/** How long a JWKS fetch may take. */
export const JWKS_TIMEOUT_MS = 5000
/** How long after a fetch an unknown `kid` may trigger another (stops key-miss floods). */
export const JWKS_COOLDOWN_MS = 30_000
/** Largest JWKS read; real ones are a few kilobytes. */
const MAX_JWKS_BYTES = 512 * 1024
/** The same failure is logged again only after this long (a login storm must not flood logs). */
const REPEAT_LOG_MS = 30_000

/** One key of a JWKS as an operator reads it. */
export interface JwkSummary {
  kid: string | null
  kty: string
  /** The algorithms it can verify: its `alg`, or every one its type allows. */
  algorithms: readonly string[]
  usable: boolean
  /** Why it is not usable. */
  why?: string
}

/** What one JWKS fetch gave: usable keys, or why not (with the HTTP status when there was one). */
export type JwksOutcome =
  { ok: true; status: number; keys: JwkSummary[] } | { ok: false; status?: number; problem: string }

function summariseKey(value: unknown): JwkSummary {
  const jwk = (value !== null && typeof value === 'object' ? value : {}) as Record<string, unknown>
  const kid = typeof jwk.kid === 'string' ? jwk.kid : null
  const kty = typeof jwk.kty === 'string' ? jwk.kty : '?'
  const refuse = (why: string): JwkSummary => ({ kid, kty, algorithms: [], usable: false, why })
  if ('d' in jwk || 'k' in jwk) return refuse('holds private or secret key material')
  if (jwk.use !== undefined && jwk.use !== 'sig') return refuse(`use is ${JSON.stringify(jwk.use)}`)
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) {
    return refuse('key_ops does not include verify')
  }
  const byType =
    kty === 'RSA'
      ? RSA_ALGS
      : kty === 'EC'
        ? [EC_ALGS_BY_JWK_CURVE[String(jwk.crv)]].filter((alg) => alg !== undefined)
        : kty === 'OKP' && jwk.crv === 'Ed25519'
          ? EDDSA_ALGS
          : []
  if (byType.length === 0) return refuse(`key type ${kty} cannot verify app JWTs`)
  const algorithms = typeof jwk.alg === 'string' ? [jwk.alg] : byType
  if (!algorithms.every((alg) => JWKS_ALGS.includes(alg) && byType.includes(alg))) {
    return refuse(`alg ${String(jwk.alg)} does not fit a ${kty} key or is not accepted`)
  }
  try {
    createPublicKey({ key: jwk as never, format: 'jwk' })
  } catch {
    return refuse('is malformed (cannot be imported)')
  }
  return { kid, kty, algorithms, usable: true }
}

/** Reads a 200 answer's body as a JWKS: its keys, or why it is not one. */
export function describeJwksBody(text: string): JwksOutcome {
  if (Buffer.byteLength(text) > MAX_JWKS_BYTES) {
    return { ok: false, status: 200, problem: `the answer is larger than ${MAX_JWKS_BYTES} bytes` }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, status: 200, problem: 'the answer is not JSON' }
  }
  const keys = (json as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) {
    return {
      ok: false,
      status: 200,
      problem: 'the answer is not a JSON Web Key Set (no "keys" list)',
    }
  }
  const summaries = keys.map(summariseKey)
  if (!summaries.some((key) => key.usable)) {
    return {
      ok: false,
      status: 200,
      problem: `none of its ${keys.length} key(s) can verify app JWTs${summaries[0]?.why ? ` (first: ${summaries[0].why})` : ''}`,
    }
  }
  return { ok: true, status: 200, keys: summaries }
}

/** One fetch of `url` and what it gave; `response` is a copy jose can still read. */
export async function fetchJwks(
  url: string,
  init: RequestInit & { signal: AbortSignal },
): Promise<{ outcome: JwksOutcome; response?: Response; error?: unknown }> {
  try {
    const answer = await fetch(url, init)
    if (answer.status !== 200) {
      await answer.body?.cancel()
      const problem = `HTTP ${answer.status}${answer.status >= 300 && answer.status < 400 ? ` (a redirect to ${answer.headers.get('location') ?? '?'}: give the final URL)` : ''}`
      return { outcome: { ok: false, status: answer.status, problem }, response: answer }
    }
    const text = await answer.text()
    return { outcome: describeJwksBody(text), response: new Response(text, { status: 200 }) }
  } catch (error) {
    const problem = isTimeoutAbort(error)
      ? `no answer within ${JWKS_TIMEOUT_MS} ms`
      : `unreachable: ${describeTransportFailure(error).cause}`
    return { outcome: { ok: false, problem }, error }
  }
}

/** Options of {@link remoteJwksSource}. */
export interface RemoteJwksOptions {
  log?: Logger
  /** Retry delays until the first success: the first, doubling up to the last. */
  retryMs?: { first: number; max: number }
  /** Called after every fetch (the `tsbff_identity_key_fetches_total` metric). */
  onFetch?: (outcome: 'ok' | 'failed') => void
}

/** Keys from the identity provider's JWKS; see the module comment for fetching and readiness. */
export function remoteJwksSource(url: string, options: RemoteJwksOptions = {}): KeySource {
  const { log } = options
  const retry = options.retryMs ?? { first: 1000, max: 30_000 }
  let lastProblem = 'the first fetch has not finished'
  let logged: { problem: string; at: number } | undefined
  let everFetched = false

  const report = (outcome: JwksOutcome): void => {
    options.onFetch?.(outcome.ok ? 'ok' : 'failed')
    if (outcome.ok) {
      const recovered = !everFetched || logged !== undefined
      everFetched = true
      logged = undefined
      const fields = { event: 'identity.jwks_fetched', url, keys: outcome.keys.length }
      if (recovered) log?.info(fields, `identity provider keys fetched from ${url}`)
      else log?.debug(fields, `identity provider keys refreshed from ${url}`)
      return
    }
    lastProblem = outcome.problem
    const now = Date.now()
    if (logged?.problem === outcome.problem && now - logged.at < REPEAT_LOG_MS) return
    logged = { problem: outcome.problem, at: now }
    log?.warn(
      { event: 'identity.jwks_failed', url, status: outcome.status, problem: outcome.problem },
      `the identity provider's JWKS at ${url} cannot be used: ${outcome.problem}; ` +
        (everFetched
          ? 'the keys fetched before stay in use, but app JWTs that need a fresh key set fail until it answers'
          : '/readyz answers 503 and every login fails until it answers'),
    )
  }

  const instrumented: FetchImplementation = async (href, init) => {
    const { outcome, response, error } = await fetchJwks(href, init)
    report(outcome)
    if (response) return response
    throw error
  }
  const jwks = createRemoteJWKSet(new URL(url), {
    timeoutDuration: JWKS_TIMEOUT_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
    [customFetch]: instrumented,
  })

  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let delay = retry.first
  const attempt = (): void => {
    jwks.reload().catch(() => {
      // Already reported; try again later unless keys arrived meanwhile (a login's own fetch).
      if (stopped || jwks.jwks() !== undefined) return
      timer = setTimeout(attempt, delay).unref()
      delay = Math.min(delay * 2, retry.max)
    })
  }
  attempt()

  return {
    key: jwks,
    algorithms: JWKS_ALGS,
    describe: `JWKS ${url}`,
    readiness: {
      name: `identity provider (JWKS ${url})`,
      check() {
        return jwks.jwks() !== undefined
          ? Promise.resolve()
          : Promise.reject(new Error(`no signing keys fetched yet: ${lastProblem}`))
      },
    },
    close() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
