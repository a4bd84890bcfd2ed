/**
 * Successful JSON answers of ThoughtSpot's session and user routes carry credentials of their
 * own: v1 `session/info` returns the session's `authToken`, which the BFF never injected and so
 * cannot find by value. These answers are read whole (bounded), parsed, and every credential
 * field is removed before they reach the browser.
 */
import { CREDENTIAL_KEY, redactCredentials } from './credential-scan.js'

/** Largest session-route answer that is checked and passed on; a larger one is replaced. */
export const MAX_SESSION_BODY = 1024 * 1024

/**
 * True for a session or user route: any path with a `session` segment (v1 `session/info`,
 * `session/isactive`, `session/orgs`, v2 `auth/session/user`), in any case, with or without a
 * `.suffix`, wherever it sits.
 */
export function isSessionRoute(path: string): boolean {
  return path.split('/').some((segment) => /^session(?:\.[^/]*)?$/i.test(segment))
}

/**
 * The answer without credential fields: a key named like a credential (`authToken`,
 * `sessionId`, `secret`…) is removed when it holds text, an object or an array — flags and
 * numbers (`isSessionExpired`, `sessionTimeout`) stay, so clients reading them keep working —
 * and the injected credential is redacted from every remaining string, where escapes could hide
 * it from a byte scan.
 */
export function stripCredentialFields(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactCredentials(value, secrets)
  if (Array.isArray(value)) return value.map((item) => stripCredentialFields(item, secrets))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(value)) {
      if (CREDENTIAL_KEY.test(key) && isCarrier(child)) continue
      out[redactCredentials(key, secrets)] = stripCredentialFields(child, secrets)
    }
    return out
  }
  return value
}

function isCarrier(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'object' && value !== null)
}
