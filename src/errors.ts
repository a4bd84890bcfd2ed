/**
 * The one error catalogue. Every failure a client can see is a `BffError` of a case below: the
 * case fixes the public code, the HTTP status and whether its message may be shown. Throw sites
 * pick a case and write a message; they never choose a status. Start-up problems are the other
 * kind of failure: a `StartupError` listing every problem found at once.
 */

interface ErrorCase {
  /** The code in the JSON body; several cases may share one (see UPSTREAM_MAINTENANCE). */
  code: string
  status: number
  /** Whether the client sees the message; unexposed cases show a fixed sentence instead. */
  expose: boolean
}

/**
 * Every error case. `expose` is false only where the message could describe the BFF's own
 * internals; upstream and store failures say what failed, which the client needs to act on.
 */
export const ERROR_CASES = {
  UNAUTHENTICATED: { code: 'UNAUTHENTICATED', status: 401, expose: true },
  INVALID_TOKEN: { code: 'INVALID_TOKEN', status: 401, expose: true },
  NOT_MAPPED: { code: 'NOT_MAPPED', status: 403, expose: true },
  DENIED: { code: 'DENIED', status: 403, expose: true },
  CSRF: { code: 'CSRF', status: 403, expose: true },
  ROUTE_NOT_ALLOWED: { code: 'ROUTE_NOT_ALLOWED', status: 403, expose: true },
  BAD_PATH: { code: 'BAD_PATH', status: 400, expose: true },
  BAD_REQUEST: { code: 'BAD_REQUEST', status: 400, expose: true },
  /** Node's parser gave up on the request head: it is larger than `server.maxHeaderBytes`. */
  HEAD_TOO_LARGE: { code: 'BAD_REQUEST', status: 431, expose: true },
  /** The head or the whole request did not arrive within its `server.*TimeoutMs`. */
  REQUEST_TIMEOUT: { code: 'BAD_REQUEST', status: 408, expose: true },
  NOT_FOUND: { code: 'NOT_FOUND', status: 404, expose: true },
  PAYLOAD_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413, expose: true },
  RATE_LIMITED: { code: 'RATE_LIMITED', status: 429, expose: true },
  UPSTREAM_AUTH_FAILED: { code: 'UPSTREAM_AUTH_FAILED', status: 502, expose: true },
  UPSTREAM_UNAVAILABLE: { code: 'UPSTREAM_UNAVAILABLE', status: 502, expose: true },
  /** ThoughtSpot answered an HTML page (maintenance) where an API answer belongs. */
  UPSTREAM_MAINTENANCE: { code: 'UPSTREAM_UNAVAILABLE', status: 503, expose: true },
  UPSTREAM_TIMEOUT: { code: 'UPSTREAM_TIMEOUT', status: 504, expose: true },
  /**
   * ThoughtSpot's own error answer to a proxied call that could not be passed on safely (too
   * large to check for credentials, or in an encoding the BFF cannot read). The forwarder sends
   * this body with ThoughtSpot's status, which is the user's call's result; 502 is only its
   * nominal status.
   */
  UPSTREAM_ERROR: { code: 'UPSTREAM_ERROR', status: 502, expose: true },
  STORE_UNAVAILABLE: { code: 'STORE_UNAVAILABLE', status: 503, expose: true },
  /** /readyz: a dependency the BFF needs before it can serve does not answer yet. */
  NOT_READY: { code: 'NOT_READY', status: 503, expose: true },
  INTERNAL: { code: 'INTERNAL', status: 500, expose: false },
} as const satisfies Record<string, ErrorCase>

/** The case a throw site picks. */
export type ErrorCaseName = keyof typeof ERROR_CASES

/** A code a client can see in an error body. */
export type ErrorCode = (typeof ERROR_CASES)[ErrorCaseName]['code']

/** Every public code with its status (UPSTREAM_UNAVAILABLE: 502 or 503), for docs and tests. */
export const STATUSES_BY_CODE: ReadonlyMap<ErrorCode, readonly number[]> = (() => {
  const statuses = new Map<ErrorCode, number[]>()
  for (const { code, status } of Object.values(ERROR_CASES)) {
    statuses.set(code, [...(statuses.get(code) ?? []), status])
  }
  return statuses
})()

/** Every public code, in catalogue order. */
export const ERROR_CODES: readonly ErrorCode[] = [...STATUSES_BY_CODE.keys()]

const HIDDEN_MESSAGE = 'Internal error; quote the request id when reporting it.'

/** Options of a `BffError`. */
export interface BffErrorOptions {
  cause?: unknown
  /** Seconds, sent as `Retry-After` (RATE_LIMITED). */
  retryAfter?: number
  /** Extra response headers, e.g. `WWW-Authenticate`. Never put a credential here. */
  headers?: Readonly<Record<string, string>>
}

/**
 * A failure with a stable code.
 *
 * @example
 * throw new BffError('ROUTE_NOT_ALLOWED', 'This call is not allowed through the proxy.')
 */
export class BffError extends Error {
  readonly case: ErrorCaseName
  readonly code: ErrorCode
  readonly status: number
  readonly expose: boolean
  readonly retryAfter: number | undefined
  readonly headers: Readonly<Record<string, string>>

  constructor(errorCase: ErrorCaseName, message: string, options: BffErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const entry: ErrorCase = ERROR_CASES[errorCase]
    this.name = 'BffError'
    this.case = errorCase
    this.code = entry.code as ErrorCode
    this.status = entry.status
    this.expose = entry.expose
    this.retryAfter = options.retryAfter
    this.headers = options.headers ?? {}
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string }
}

/** The error body for `err`; an unexposed case shows a fixed sentence, its detail goes to the log. */
export function toErrorBody(err: BffError, requestId: string): ErrorBody {
  return {
    error: { code: err.code, message: err.expose ? err.message : HIDDEN_MESSAGE, requestId },
  }
}

/**
 * The BFF cannot start: every problem found, one line each, naming the file and line or the
 * environment variable. `main` prints them and exits 1; nothing falls back silently.
 */
export class StartupError extends Error {
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(problems.join('\n'))
    this.name = 'StartupError'
    this.problems = problems
  }
}
