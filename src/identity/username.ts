/**
 * The app JWT claims that become the ThoughtSpot user (README, "Security"): the configured username claim,
 * plus email and display name for just-in-time provisioning when the claims carry them.
 *
 * A username is an identity: two strings that look alike must not be two users, and one user must
 * not be two strings. So characters that render as nothing or as a plain space are refused, and
 * what is left is normalised to NFC (and, when configured, lower-cased) before the length check,
 * so every check sees exactly the string that reaches ThoughtSpot and the mapping's `users:` keys.
 */
import { BffError } from '../errors.js'

/** `identity.usernameCase`: keep the claim's case, or lower-case it (ThoughtSpot and `users:` keys must agree). */
export type UsernameCase = 'preserve' | 'lower'

/** The values `identity.usernameCase` accepts. */
export const USERNAME_CASES = ['preserve', 'lower'] as const satisfies readonly UsernameCase[]

/** Longest username, counted in code points (ThoughtSpot's limit is 255 characters). */
const MAX_LENGTH = 255

/**
 * Controls (Cc), format characters (Cf: zero-width, soft hyphen, bidi marks, BOM, tag characters),
 * line and paragraph separators, every space but U+0020, and the default-ignorable code points
 * (variation selectors, Hangul fillers, U+2060–U+206F): all invisible or lookalike in a name.
 */
const REFUSED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Zs}]/u
const PLAIN_SPACE = ' '
/** With the `u` flag, only an unpaired surrogate is a Cs code point. */
const LONE_SURROGATE = /\p{Cs}/u

/** Profile fields (display names) keep format characters that scripts need (ZWNJ in Persian). */
const CONTROL_OR_BIDI = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/u

function refusedCharacter(value: string): string | undefined {
  for (const char of value) {
    if (char !== PLAIN_SPACE && REFUSED.test(char)) return char
  }
  return undefined
}

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * The username a raw claim value becomes, or why it cannot be one. Order: a lone surrogate is
 * refused first (it cannot be normalised), then NFC and the case option, then the character and
 * length checks on the result. NFC never removes a refused character, so checking after it is
 * safe, and the length limit applies to what ThoughtSpot receives.
 */
export function normaliseUsername(
  value: string,
  usernameCase: UsernameCase = 'preserve',
): { username: string } | { problem: string } {
  if (LONE_SURROGATE.test(value)) return { problem: 'contains a lone surrogate (invalid UTF-16)' }
  let username = value.normalize('NFC')
  if (usernameCase === 'lower') username = username.toLowerCase().normalize('NFC')
  if (username.length === 0 || username.trim() !== username) {
    return { problem: 'is empty or has surrounding spaces' }
  }
  const refused = refusedCharacter(username)
  if (refused !== undefined) {
    return { problem: `contains an invisible, control or format character (${codePoint(refused)})` }
  }
  // Count code points, not UTF-16 units: a surrogate pair is one character.
  if (username.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length > MAX_LENGTH) {
    return { problem: `is longer than ${MAX_LENGTH} characters` }
  }
  return { username }
}

/** Validates the username claim; anything unusable is INVALID_TOKEN (401), never a 500. */
export function usernameFrom(
  claims: Readonly<Record<string, unknown>>,
  claim: string,
  usernameCase: UsernameCase = 'preserve',
): string {
  const raw = claims[claim]
  const value = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : raw
  if (typeof value !== 'string') {
    throw new BffError('INVALID_TOKEN', `The "${claim}" claim is missing or not a string.`)
  }
  const result = normaliseUsername(value, usernameCase)
  if ('problem' in result) {
    throw new BffError('INVALID_TOKEN', `The "${claim}" claim ${result.problem}.`)
  }
  return result.username
}

/** An optional profile claim: used when it is a sane string, ignored otherwise. */
export function profileClaim(
  claims: Readonly<Record<string, unknown>>,
  claim: string,
  kind: 'email' | 'name',
): string | null {
  const value = claims[claim]
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) return null
  if (LONE_SURROGATE.test(value) || CONTROL_OR_BIDI.test(value)) return null
  if (kind === 'email') {
    if (!/^[^\s@]+@[^\s@]+$/.test(value) || refusedCharacter(value) !== undefined) return null
  }
  return value.normalize('NFC')
}
