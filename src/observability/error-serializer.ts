/**
 * How an error looks in a log line: `{ type, message, code?, cause?, stack? }`, whatever was
 * logged under `err`. pino's own serializer keeps only real Error instances; a plain object such
 * as `{ type, message }` came out as `"type":"Object",…,"stack":""`, losing the type it carried.
 */

/** An error as one log field. */
export interface SerializedError {
  type: string
  message: string
  code?: string
  /** What the error wraps (fetch's "fetch failed" wraps "connect ECONNREFUSED …"). */
  cause?: SerializedError
  /** The errors of an AggregateError (e.g. one per address tried). */
  errors?: SerializedError[]
  /** Only on the outermost error. */
  stack?: string
}

/** How many causes deep a line follows; a longer chain is a loop or not worth the bytes. */
const MAX_DEPTH = 4

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function typeOf(error: Error): string {
  // A subclass that forgot to set `name` still says what it is through its constructor.
  if (error.name && error.name !== 'Error') return error.name
  const constructorName = (error.constructor as { name?: unknown } | undefined)?.name
  return typeof constructorName === 'string' && constructorName !== '' ? constructorName : 'Error'
}

/** The log form of `value`: an Error, an error-like object, or anything else thrown. */
export function serializeError(value: unknown, depth = 0): SerializedError {
  if (value instanceof Error) {
    const code = text((value as { code?: unknown }).code)
    const nested = depth < MAX_DEPTH
    return {
      type: typeOf(value),
      message: value.message,
      ...(code !== undefined ? { code } : {}),
      ...(nested && value.cause !== undefined
        ? { cause: serializeError(value.cause, depth + 1) }
        : {}),
      ...(nested && value instanceof AggregateError && Array.isArray(value.errors)
        ? { errors: (value.errors as unknown[]).map((each) => serializeError(each, depth + 1)) }
        : {}),
      // The outermost stack says where it was thrown; the causes' stacks only repeat it.
      ...(depth === 0 && value.stack ? { stack: value.stack } : {}),
    }
  }
  if (value !== null && typeof value === 'object') {
    // An error-like object (e.g. `{ type, message }` built by a caller): keep what it says.
    const fields = value as Record<string, unknown>
    const code = text(fields.code)
    return {
      type: text(fields.type) ?? text(fields.name) ?? 'Object',
      message: text(fields.message) ?? '(no message)',
      ...(code !== undefined ? { code } : {}),
    }
  }
  return { type: typeof value, message: String(value) }
}
