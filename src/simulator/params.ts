/**
 * Readers for REST v1 parameters, which arrive as strings (form fields or the query string).
 * Like `fields.ts`, messages name the parameter and never repeat its value.
 */
import { SimError } from './http.js'

/** v1 parameters by name. */
export type Params = Readonly<Record<string, string | undefined>>

/** Query parameters; the first value wins, as with form fields. */
export function queryParams(query: URLSearchParams): Record<string, string> {
  const params: Record<string, string> = {}
  for (const [key, value] of query) if (!Object.hasOwn(params, key)) params[key] = value
  return params
}

/** A required, non-empty parameter of at most `max` characters. */
export function reqParam(params: Params, key: string, max = 65_535): string {
  const value = params[key]
  if (value === undefined || value === '') throw new SimError(400, `'${key}' is required`)
  if (value.length > max) throw new SimError(400, `'${key}' is longer than ${max} characters`)
  return value
}

/** An optional 'true'/'false' parameter (any case). */
export function boolParam(params: Params, key: string): boolean | undefined {
  const value = params[key]
  if (value === undefined || value === '') return undefined
  const lower = value.toLowerCase()
  if (lower !== 'true' && lower !== 'false')
    throw new SimError(400, `'${key}' must be true or false`)
  return lower === 'true'
}

/** An optional int32 parameter of at least `min`. */
export function intParam(params: Params, key: string, min: number): number | undefined {
  const value = params[key]
  if (value === undefined || value === '') return undefined
  const number = /^-?\d{1,10}$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(number) || number < min || number > 2_147_483_647) {
    throw new SimError(400, `'${key}' must be an integer of at least ${min}`)
  }
  return number
}

/** An optional parameter that must be one of `allowed`. */
export function enumParam<T extends string>(
  params: Params,
  key: string,
  allowed: readonly T[],
): T | undefined {
  const value = params[key]
  if (value === undefined || value === '') return undefined
  if (!(allowed as readonly string[]).includes(value)) {
    throw new SimError(400, `'${key}' must be one of ${allowed.join(', ')}`)
  }
  return value as T
}

/** A parameter holding a JSON array of strings, such as v1 `groups` or `vizid`. */
export function jsonListParam(params: Params, key: string): string[] | undefined {
  const value = params[key]
  if (value === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new SimError(400, `'${key}' must be a JSON array of strings`)
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string' && item !== '')) {
    throw new SimError(400, `'${key}' must be a JSON array of strings`)
  }
  return parsed as string[]
}
