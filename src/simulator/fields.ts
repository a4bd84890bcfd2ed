/**
 * Typed readers for JSON request fields. ThoughtSpot ignores unknown fields but refuses wrong
 * types with 400, and so do these. A JSON `null` counts as absent, as it does for ThoughtSpot's
 * deserialiser. Messages name the field, never its value: the body may hold the secret key.
 */
import { SimError } from './http.js'
import type { ScalarValue } from './state.js'

type Fields = Readonly<Record<string, unknown>>

const INT32_MAX = 2_147_483_647

function invalid(where: string, expected: string): SimError {
  return new SimError(400, `Invalid value for '${where}': expected ${expected}`)
}

function present(fields: Fields, key: string): unknown {
  const value = fields[key]
  return value === null ? undefined : value
}

/** Length bounds of a string field (default 1 to 65,535 characters). */
export interface StringRule {
  min?: number
  max?: number
}

/** `value` as a string within `rule`'s bounds; `where` names it in the error. */
export function asString(value: unknown, where: string, rule: StringRule = {}): string {
  const { min = 1, max = 65_535 } = rule
  if (typeof value !== 'string') throw invalid(where, 'a string')
  if (value.length < min || value.length > max) {
    throw invalid(where, `a string of ${min} to ${max} characters`)
  }
  return value
}

/** An optional string field. */
export function optString(fields: Fields, key: string, rule?: StringRule): string | undefined {
  const value = present(fields, key)
  return value === undefined ? undefined : asString(value, key, rule)
}

/** A required string field: absent → 400 "'key' is required". */
export function reqString(fields: Fields, key: string, rule?: StringRule): string {
  const value = present(fields, key)
  if (value === undefined) throw new SimError(400, `'${key}' is required`)
  return asString(value, key, rule)
}

/** An optional int32 field of at least `min` (ThoughtSpot's integers are int32). */
export function optInt(fields: Fields, key: string, min: number): number | undefined {
  const value = present(fields, key)
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > INT32_MAX) {
    throw invalid(key, `an integer from ${min} to ${INT32_MAX}`)
  }
  return value
}

/** An optional boolean field; strings such as 'true' are refused. */
export function optBool(fields: Fields, key: string): boolean | undefined {
  const value = present(fields, key)
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw invalid(key, 'true or false')
  return value
}

/** An optional field that must be one of `allowed`. */
export function optEnum<T extends string>(
  fields: Fields,
  key: string,
  allowed: readonly T[],
): T | undefined {
  const value = present(fields, key)
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(key, `one of ${allowed.join(', ')}`)
  }
  return value as T
}

/** A required field that must be one of `allowed`. */
export function reqEnum<T extends string>(fields: Fields, key: string, allowed: readonly T[]): T {
  const value = optEnum(fields, key, allowed)
  if (value === undefined) throw new SimError(400, `'${key}' is required`)
  return value
}

/** `value` as a JSON object (not an array, not null). */
export function asObject(value: unknown, where: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(where, 'an object')
  }
  return value as Fields
}

/** An optional object field, checked for its type only. */
export function optObject(fields: Fields, key: string): Fields | undefined {
  const value = present(fields, key)
  return value === undefined ? undefined : asObject(value, key)
}

/** An optional array whose items are checked by `item` (given the item and its path). */
export function optArray<T>(
  fields: Fields,
  key: string,
  item: (value: unknown, where: string) => T,
): T[] | undefined {
  const value = present(fields, key)
  if (value === undefined) return undefined
  if (!Array.isArray(value)) throw invalid(key, 'an array')
  return value.map((entry: unknown, index) => item(entry, `${key}[${index}]`))
}

/** A filter or variable value: string, finite number or boolean. */
export function asScalar(value: unknown, where: string): ScalarValue {
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  throw invalid(where, 'a string, number or boolean')
}

/** `values` arrays of filter rules and variables. */
export function scalarArray(fields: Fields, key: string, where: string): ScalarValue[] {
  const value = fields[key]
  if (!Array.isArray(value)) throw invalid(`${where}.${key}`, 'an array')
  return value.map((entry: unknown, index) => asScalar(entry, `${where}.${key}[${index}]`))
}
