/**
 * An upstream error answer is the user's own call's result and passes through — but only after
 * taking out anything that could echo a credential the BFF injected: the user's ThoughtSpot token
 * or session cookie, wherever it appears, and any field named like a credential.
 */
import { BffError, toErrorBody } from '../errors.js'
import { CREDENTIAL_KEY, redactCredentials as replaceAll } from './credential-scan.js'

/** Largest error body that is inspected and passed on; a larger one is replaced by a stub. */
export const MAX_ERROR_BODY = 64 * 1024

/** Redacts credential-named fields and credential values inside decoded strings (JSON escapes
 * such as `\/` or `\u003d` hide a token from a search of the raw text). */
function scrub(value: unknown, credentials: readonly string[]): unknown {
  if (typeof value === 'string') return replaceAll(value, credentials)
  if (Array.isArray(value)) return value.map((item) => scrub(item, credentials))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, child] of Object.entries(value)) {
      out[replaceAll(key, credentials)] = CREDENTIAL_KEY.test(key)
        ? '[redacted]'
        : scrub(child, credentials)
    }
    return out
  }
  return value
}

/**
 * The body sent instead of one the BFF cannot check: the usual error shape, UPSTREAM_ERROR. The
 * message says whether ThoughtSpot's answer was an error (`upstreamStatus` ≥ 400, or not given:
 * an error body) or a success whose body could not be passed on, so nobody goes looking for a
 * ThoughtSpot failure that was not one.
 */
export function omittedErrorBody(requestId: string, why: string, upstreamStatus = 500): Buffer {
  const message =
    upstreamStatus >= 400
      ? `ThoughtSpot returned an error (body omitted: ${why}).`
      : `ThoughtSpot answered ${upstreamStatus}, but its body cannot be passed on (body omitted: ${why}).`
  return Buffer.from(
    JSON.stringify(toErrorBody(new BffError('UPSTREAM_ERROR', message), requestId)),
  )
}

/**
 * Returns the body to send: credential values replaced in the text, and, when it is JSON,
 * credential-named fields redacted. A body too large to inspect becomes a short JSON stub.
 */
export function sanitizeErrorBody(
  body: Buffer,
  credentials: readonly string[],
  isJson: boolean,
  requestId = 'unknown',
): Buffer {
  if (body.length > MAX_ERROR_BODY) return omittedErrorBody(requestId, 'too large to check')
  let text = replaceAll(body.toString('utf8'), credentials)
  if (isJson) {
    try {
      text = JSON.stringify(scrub(JSON.parse(text), credentials))
    } catch {
      // Not valid JSON after all: the replaced text is what goes on.
    }
  }
  return Buffer.from(text)
}
