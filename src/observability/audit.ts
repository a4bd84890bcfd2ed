/**
 * The audit trail: one JSON line per security-relevant act, with a fixed schema (README,
 * "Audit lines"), written in one place so every line has the same fields. Every line carries
 * `"audit": true`, its `event`, the request id and the username when known; never a token, a
 * cookie or a secret (the logger's redaction is the second guard). Where the lines go is
 * `audit-log.ts`; which refusals are written, and how a flood is kept out, is decided here.
 */
import type { Logger } from './logger.js'
import { createRefusalThrottle, type RefusalThrottle } from './refusal-throttle.js'

/** A mint that succeeded. */
export interface MintRecord {
  requestId: string
  username: string
  groups: readonly string[]
  orgId: number
  accessLevel: string
  objectId: string | null
  api: string
  /** Epoch ms the token expires. */
  expiresAt: number
}

/** A refused request. */
export interface RefusalRecord {
  requestId: string
  code: string
  status: number
  method: string
  /** The route family (`/ts/api/rest/2.0/*`, `/ts/auth/token`, …), never the raw path. */
  route: string
  username?: string | undefined
  /** The client address as `server.trustProxy` lets the BFF see it. */
  ip: string
}

/** Tokens revoked upstream and held ThoughtSpot sessions ended for one user. */
export interface RevocationRecord {
  requestId: string
  username: string
  /** Why: the user logged out, or a mapping reload stopped mapping them. */
  reason: 'logout' | 'mapping-change'
  tokensRevoked: number
  revokeFailures: number
  sessionsEnded: number
}

/** The audit trail's writer. */
export interface Audit {
  minted(record: MintRecord): void
  /** Writes the refusal when its code is one of {@link AUDITED_REFUSALS} (floods summarised). */
  refused(record: RefusalRecord): void
  sessionCreated(record: { requestId: string; username: string; expiresAt: number }): void
  sessionEnded(record: { requestId: string; username: string }): void
  revoked(record: RevocationRecord): void
  /** Writes the pending flood summary, if any. */
  flush(): void
}

/**
 * The refusals the audit trail records: decisions about who may do what (a bad credential, a
 * user the mapping refuses, a CSRF or allowlist refusal, a path built to escape the allowlist),
 * a limit that was hit, and a request the BFF refused because its store is down (fail closed).
 * Left out, being no decision about a user: UNAUTHENTICATED (no credential at all: every page
 * asks before its user has signed in), BAD_REQUEST and PAYLOAD_TOO_LARGE (malformed input),
 * NOT_FOUND, and ThoughtSpot's own failures (logged at error and counted in the metrics).
 */
export const AUDITED_REFUSALS: ReadonlySet<string> = new Set([
  'INVALID_TOKEN',
  'NOT_MAPPED',
  'DENIED',
  'CSRF',
  'ROUTE_NOT_ALLOWED',
  'BAD_PATH',
  'RATE_LIMITED',
  'STORE_UNAVAILABLE',
])

/** Options of {@link createAudit}. */
export interface AuditOptions {
  now?: () => number
  /** Told of every refusal left out during a flood (metrics). */
  onSuppressed?: (code: string) => void
}

/** Writes the audit trail to `log` (a logger of its own destination: see `audit-log.ts`). */
export function createAudit(log: Logger, options: AuditOptions = {}): Audit {
  const write = (event: string, fields: object, message: string): void => {
    log.info({ event, audit: true, ...fields }, message)
  }
  const iso = (ms: number): string => new Date(ms).toISOString()
  const throttle: RefusalThrottle = createRefusalThrottle({
    ...(options.now ? { now: options.now } : {}),
    summarise: (summary) =>
      write('request.refused.suppressed', summary, 'refusals left out of the audit log'),
  })
  return {
    minted: (record) =>
      write('token.minted', { ...record, expiresAt: iso(record.expiresAt) }, 'minted a token'),
    refused(record) {
      if (!AUDITED_REFUSALS.has(record.code)) return
      if (throttle.admit(record)) write('request.refused', record, 'refused a request')
      else options.onSuppressed?.(record.code)
    },
    sessionCreated: (record) =>
      write('session.created', { ...record, expiresAt: iso(record.expiresAt) }, 'session created'),
    sessionEnded: (record) => write('session.ended', record, 'session ended'),
    revoked: (record) =>
      write('token.revoked', record, 'revoked the user’s ThoughtSpot credentials'),
    flush: () => throttle.flush(),
  }
}
