/**
 * The audit trail: one JSON line per security-relevant act, with a fixed schema (README,
 * "Audit lines"), written in one place so every line has the same fields. Every line carries
 * `"audit": true`, its `event`, the request id and the username when known; never a token, a
 * cookie or a secret (the logger's redaction is the second guard).
 */
import type { Logger } from './logger.js'

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

/** A request refused with a 4xx code (or a 503 STORE_UNAVAILABLE). */
export interface RefusalRecord {
  requestId: string
  code: string
  status: number
  /** The route family (`/ts/api/rest/2.0/*`, `/ts/auth/token`, …), never the raw path. */
  route: string
  username?: string | undefined
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
  refused(record: RefusalRecord): void
  sessionCreated(record: { requestId: string; username: string; expiresAt: number }): void
  sessionEnded(record: { requestId: string; username: string }): void
  revoked(record: RevocationRecord): void
}

/** Writes the audit trail to `log` (the main log, or a logger of its own destination). */
export function createAudit(log: Logger): Audit {
  const write = (event: string, fields: object, message: string): void => {
    log.info({ event, audit: true, ...fields }, message)
  }
  const iso = (ms: number): string => new Date(ms).toISOString()
  return {
    minted: (record) =>
      write('token.minted', { ...record, expiresAt: iso(record.expiresAt) }, 'minted a token'),
    refused: (record) => write('request.refused', record, 'refused a request'),
    sessionCreated: (record) =>
      write('session.created', { ...record, expiresAt: iso(record.expiresAt) }, 'session created'),
    sessionEnded: (record) => write('session.ended', record, 'session ended'),
    revoked: (record) =>
      write('token.revoked', record, 'revoked the user’s ThoughtSpot credentials'),
  }
}
