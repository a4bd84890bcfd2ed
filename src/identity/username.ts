/**
 * The app JWT claims that become the ThoughtSpot user (SPEC §3): the configured username claim,
 * plus email and display name for just-in-time provisioning when the claims carry them.
 */
import { BffError } from '../errors.js'

const CONTROL_OR_BIDI = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

/** Validates the username claim; anything unusable is INVALID_TOKEN (401), never a 500. */
export function usernameFrom(claims: Readonly<Record<string, unknown>>, claim: string): string {
  const raw = claims[claim]
  const value = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : raw
  if (typeof value !== 'string') {
    throw new BffError('INVALID_TOKEN', `The "${claim}" claim is missing or not a string.`)
  }
  if (value.length === 0 || value.trim() !== value) {
    throw new BffError('INVALID_TOKEN', `The "${claim}" claim is empty or has surrounding spaces.`)
  }
  // Count code points, not UTF-16 units: a surrogate pair is one character.
  if (value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length > 255) {
    throw new BffError('INVALID_TOKEN', `The "${claim}" claim is longer than 255 characters.`)
  }
  if (CONTROL_OR_BIDI.test(value)) {
    throw new BffError('INVALID_TOKEN', `The "${claim}" claim contains control characters.`)
  }
  return value
}

/** An optional profile claim: used when it is a sane string, ignored otherwise. */
export function profileClaim(
  claims: Readonly<Record<string, unknown>>,
  claim: string,
  kind: 'email' | 'name',
): string | null {
  const value = claims[claim]
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) return null
  if (CONTROL_OR_BIDI.test(value)) return null
  if (kind === 'email' && !/^[^\s@]+@[^\s@]+$/.test(value)) return null
  return value
}
