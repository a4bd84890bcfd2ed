/**
 * The last middleware: every failure leaves as the SPEC §7 JSON body. A BffError shows its code
 * and (below 500) its message; body-parser's errors become 400/413; anything else is INTERNAL
 * with the cause in the log only — never a stack trace or a secret in the body.
 */
import type { NextFunction, Request, Response } from 'express'
import { BffError, toErrorBody } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { RequestScope } from '../scope.js'

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

export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new BffError('NOT_FOUND', 'No such route.'))
}

export function errorHandler(fallbackLog: Logger) {
  return function errorHandlerMiddleware(
    err: unknown,
    _req: Request,
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
