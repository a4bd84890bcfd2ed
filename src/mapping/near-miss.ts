/**
 * For `explain`: rules that did not match but nearly did, and why. The operators are exact on
 * purpose (README, "Mapping users to ThoughtSpot"), so a claim that is a list, another case or padded with spaces slips past an
 * `equals` deny rule silently; this says so. Only the CLI calls it, never the request path.
 */
import { asText, readClaim, ruleMatches } from './evaluate.js'
import { caseInsensitive, type ClaimPattern } from './pattern.js'
import type { LoadedMapping, MappingRule } from './schema.js'

/** A rule that did not match, and what about the claim kept it from matching. */
export interface NearMiss {
  rule: number
  why: string
}

const fold = (text: string): string => text.normalize('NFC').trim().toLowerCase()

function shown(value: unknown): string {
  const text = JSON.stringify(value)
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}

/** Whether `text` would match if the operator ignored case and surrounding whitespace. */
function matchesLoosely(rule: MappingRule, pattern: ClaimPattern | null, text: string): boolean {
  const { equals, includes, endsWith } = rule.when
  if (equals !== undefined) return fold(text) === fold(equals)
  if (includes !== undefined) return fold(text) === fold(includes)
  if (endsWith !== undefined) return fold(text).endsWith(fold(endsWith))
  if (pattern === null) return false
  const loose = caseInsensitive(pattern)
  return [text, text.trim()].some((t) => pattern.test(t) || loose?.test(t) === true)
}

/** Whether `text` matches exactly, as a single value. */
function matchesExactly(rule: MappingRule, pattern: ClaimPattern | null, text: string): boolean {
  return ruleMatches(rule, pattern, { [rule.when.claim]: text })
}

function whyNot(
  rule: MappingRule,
  pattern: ClaimPattern | null,
  claims: Readonly<Record<string, unknown>>,
): string | undefined {
  const { claim } = rule.when
  const value = readClaim(claims, claim)
  if (value === undefined) {
    const similar = Object.keys(claims).find((key) => key !== claim && fold(key) === fold(claim))
    return similar === undefined
      ? undefined
      : `there is no "${claim}" claim, but there is "${similar}" (claim names are exact)`
  }
  if (value === null) return undefined
  if (typeof value === 'object' && !Array.isArray(value)) {
    return `the claim is an object ${shown(value)}; no operator looks inside (use a dotted claim path)`
  }
  const list = Array.isArray(value)
  const texts = (list ? value : [value]).map(asText).filter((t): t is string => t !== undefined)
  const op = rule.when.includes !== undefined ? 'includes' : undefined
  if (list && op === undefined) {
    if (texts.some((t) => matchesExactly(rule, pattern, t))) {
      return `the claim is ${shown(value)} (a list; only includes looks into lists)`
    }
    if (texts.some((t) => matchesLoosely(rule, pattern, t))) {
      return `the claim is ${shown(value)} (a list, and it differs by case or surrounding whitespace)`
    }
    return undefined
  }
  if (texts.some((t) => matchesLoosely(rule, pattern, t))) {
    return `the claim is ${shown(value)}: it differs only by case or surrounding whitespace`
  }
  return undefined
}

/** Every rule that did not match these claims but nearly did, in file order. */
export function nearMisses(
  loaded: LoadedMapping,
  claims: Readonly<Record<string, unknown>>,
): NearMiss[] {
  const found: NearMiss[] = []
  for (const [index, rule] of loaded.mapping.rules.entries()) {
    const pattern = loaded.patterns[index] ?? null
    if (ruleMatches(rule, pattern, claims)) continue
    const why = whyNot(rule, pattern, claims)
    if (why !== undefined) found.push({ rule: index, why })
  }
  return found
}
