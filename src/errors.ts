/**
 * The one error catalogue (SPEC §7). Every failure a client can see is a `BffError` with a code
 * from `ErrorCode`; the status comes from `STATUS_BY_CODE`, never from the throw site.
 */

export const STATUS_BY_CODE = {
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  NOT_MAPPED: 403,
  DENIED: 403,
  CSRF: 403,
  ROUTE_NOT_ALLOWED: 403,
  BAD_PATH: 400,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UPSTREAM_AUTH_FAILED: 502,
  UPSTREAM_UNAVAILABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<string, number>

export type ErrorCode = keyof typeof STATUS_BY_CODE

export const ERROR_CODES = Object.keys(STATUS_BY_CODE) as ErrorCode[]

export interface BffErrorOptions {
  cause?: unknown
  /** Overrides the catalogue status where SPEC allows two (UPSTREAM_UNAVAILABLE: 502 or 503). */
  status?: number
  /** Seconds, sent as `Retry-After` (RATE_LIMITED). */
  retryAfter?: number
  /** Extra response headers, e.g. `WWW-Authenticate`. Never put a credential here. */
  headers?: Readonly<Record<string, string>>
}

/** A failure with a stable code. Only errors below 500 show their message to the client. */
export class BffError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retryAfter: number | undefined
  readonly headers: Readonly<Record<string, string>>

  constructor(code: ErrorCode, message: string, options: BffErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BffError'
    this.code = code
    this.status = options.status ?? STATUS_BY_CODE[code]
    this.retryAfter = options.retryAfter
    this.headers = options.headers ?? {}
  }
}

export function isBffError(value: unknown): value is BffError {
  return value instanceof BffError
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string }
}

/** The SPEC §7 body. Messages of 5xx errors are replaced: their detail goes to the log only. */
export function toErrorBody(err: BffError, requestId: string): ErrorBody {
  const message =
    err.status < 500 || err.code.startsWith('UPSTREAM_') || err.code === 'STORE_UNAVAILABLE'
      ? err.message
      : 'Internal error; quote the request id when reporting it.'
  return { error: { code: err.code, message, requestId } }
}
