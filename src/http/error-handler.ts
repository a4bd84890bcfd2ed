/**
 * The last middleware: every failure leaves as the SPEC §7 JSON body. A BffError shows its code
 * and (below 500) its message; body-parser's errors become 400/413; anything else is INTERNAL
 * with the cause in the log only — never a stack trace or a secret in the body. A refusal is
 * handed to the audit trail, which decides whether it is one to record.
 */
import type { NextFunction, Request, Response } from 'express'
import { BffError, toErrorBody } from '../errors.js'
import type { Audit } from '../observability/audit.js'
import type { Logger } from '../observability/logger.js'
import type { RequestScope } from '../scope.js'
import { routeFamily } from './access-log.js'

/** Errors thrown by express/body-parser carry `status` and `type`. */
function fromHttpError(err: unknown): BffError | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const { status, type } = err as { status?: unknown; type?: unknown }
  if (status === 413 || type === 'entity.too.large') {
    return new BffError('PAYLOAD_TOO_LARGE', 'The request body is larger than allowed.')
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new BffError('BAD_REQUEST', 'The request could not be read (malformed body or headers).')
  }
  return undefined
}

/** The fall-through route: 404 NOT_FOUND. */
export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new BffError('NOT_FOUND', 'No such route.'))
}

/** The error middleware; `audit` is told of every refusal (4xx, and 503 STORE_UNAVAILABLE). */
export function errorHandler(fallbackLog: Logger, audit?: Audit) {
  return function errorHandlerMiddleware(
    err: unknown,
    req: Request,
    res: Response,
    _next: NextFunction,
  ): void {
    const scope = (res.locals as { scope?: RequestScope }).scope
    const log = scope?.log ?? fallbackLog
    const error =
      err instanceof BffError
        ? err
        : (fromHttpError(err) ?? new BffError('INTERNAL', 'Internal error.', { cause: err }))
    if (error.status >= 500) {
      const cause = error.cause ?? err
      log.error(
        {
          event: 'request.failed',
          code: error.code,
          err: cause instanceof Error ? { type: cause.name, message: cause.message } : undefined,
        },
        error.message,
      )
    }
    if (audit && (error.status < 500 || error.code === 'STORE_UNAVAILABLE')) {
      audit.refused({
        requestId: scope?.requestId ?? 'unknown',
        code: error.code,
        status: error.status,
        method: req.method,
        route: routeFamily(req),
        username: scope?.user?.username,
        ip: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      })
    }
    if (res.headersSent) {
      res.destroy()
      return
    }
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value)
    if (error.retryAfter !== undefined) res.setHeader('Retry-After', String(error.retryAfter))
    res.setHeader('Cache-Control', 'no-store')
    res.status(error.status).json(toErrorBody(error, scope?.requestId ?? 'unknown'))
  }
}
