/**
 * Claims × mapping → what the user may be in ThoughtSpot (README, "Mapping users to ThoughtSpot"). A pure function: no I/O, no
 * clock, so the table of cases in test/unit/mapping covers it completely.
 */
import { createHash } from 'node:crypto'
import type { ClaimPattern } from './pattern.js'
import type { AccessLevel, LoadedMapping, MappingRule } from './schema.js'

/** One `filter_rules` entry of an `auth/token/custom` mint. */
export interface FilterRule {
  column_name: string
  operator: string
  values: Array<string | number | boolean>
}

/** One `variable_values` entry of an `auth/token/custom` mint. */
export interface VariableValue {
  name: string
  values: Array<string | number | boolean>
}

/** The mapping result for one user: everything that goes into a mint, and nothing else. */
export interface Access {
  groups: readonly string[]
  orgId: number
  accessLevel: AccessLevel
  autoCreate: boolean
  /** Non-empty filterRules or variableValues ⇒ the user is minted through auth/token/custom. */
  filterRules: readonly FilterRule[]
  variableValues: readonly VariableValue[]
  /** Indexes of the rules that matched, in order (for `explain` and the audit log). */
  matchedRules: readonly number[]
  userEntry: boolean
  /** Stable digest of the fields above that reach ThoughtSpot; part of the token-cache key. */
  digest: string
}

/** Why a user is refused: a deny rule matched, or a row-filter claim cannot be used. */
export type Denial =
  | { outcome: 'denied'; reason: 'rule'; rule: number }
  | {
      outcome: 'denied'
      reason: 'attribute'
      /** Index into `mapping.attributes`. */
      attribute: number
      claim: string
      /** What is wrong with the claim's value, for the log (never the value itself). */
      problem: string
    }

/** The mapping result; plain data, so a caller may memoise it by claims. */
export type Evaluation = { outcome: 'mapped'; access: Access } | { outcome: 'not-mapped' } | Denial

/** Reads `claim`, or a dotted path into nested claims (`realm_access.roles`) when no such key. */
export function readClaim(claims: Readonly<Record<string, unknown>>, claim: string): unknown {
  if (Object.hasOwn(claims, claim)) return claims[claim]
  let node: unknown = claims
  for (const part of claim.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

/**
 * Strings, numbers and booleans compare as text. Every length is tested: the operators, RE2 among
 * them, are linear, and a cap would let an over-long claim slip past a deny rule.
 */
export function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

/** Whether a rule's `when` holds for these claims (the README's operators; a missing claim: no). */
export function ruleMatches(
  rule: MappingRule,
  pattern: ClaimPattern | null,
  claims: Readonly<Record<string, unknown>>,
): boolean {
  const value = readClaim(claims, rule.when.claim)
  if (value === undefined || value === null) return false
  const { equals, includes, endsWith } = rule.when
  if (includes !== undefined) {
    if (Array.isArray(value)) return value.some((item) => asText(item) === includes)
    return asText(value) === includes
  }
  const text = asText(value)
  if (text === undefined) return false
  if (equals !== undefined) return text === equals
  if (endsWith !== undefined) return text.endsWith(endsWith)
  return pattern !== null && pattern.test(text)
}

type AttributeValues = { values: Array<string | number | boolean> } | { problem: string }

function attributeItem(item: unknown): string | number | boolean | undefined {
  if (typeof item === 'string') return item.trim().length > 0 ? item : undefined
  if (typeof item === 'number') return Number.isFinite(item) ? item : undefined
  if (typeof item === 'boolean') return item
  return undefined
}

/**
 * A present row-filter claim must be usable as a whole: a non-blank string, a number, a boolean,
 * or a non-empty list of only those. Anything else (null, an object, an empty list, a list with
 * one unusable item) refuses the user: dropping it would mint with fewer filters, i.e. more rows,
 * and dropping one item of a NOT_IN list widens it too.
 */
function attributeValues(value: unknown): AttributeValues {
  if (value === null) return { problem: 'is null' }
  if (!Array.isArray(value)) {
    const item = attributeItem(value)
    if (item !== undefined) return { values: [item] }
    return { problem: typeof value === 'string' ? 'is blank' : `is ${describeShape(value)}` }
  }
  if (value.length === 0) return { problem: 'is an empty list' }
  const values: Array<string | number | boolean> = []
  for (const [index, element] of value.entries()) {
    const item = attributeItem(element)
    if (item === undefined) return { problem: `has an unusable item at [${index}]` }
    values.push(item)
  }
  return { values }
}

function describeShape(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  return value !== null && typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** Claims × mapping → Access, or why not. Pure: no I/O, no clock, no hidden state. */
export function evaluateMapping(
  loaded: LoadedMapping,
  username: string,
  claims: Readonly<Record<string, unknown>>,
): Evaluation {
  const { mapping, patterns } = loaded
  // Built-in base (groups [], org 0, FULL, autoCreate), then default, then each matching rule, then the user entry.
  const groups = new Set<string>()
  let orgId = 0
  let accessLevel: AccessLevel = 'FULL'
  let autoCreate = true
  const apply = (grant: {
    groups?: string[] | undefined
    orgId?: number | undefined
    accessLevel?: AccessLevel | undefined
    autoCreate?: boolean | undefined
  }): void => {
    for (const group of grant.groups ?? []) groups.add(group)
    orgId = grant.orgId ?? orgId
    accessLevel = grant.accessLevel ?? accessLevel
    autoCreate = grant.autoCreate ?? autoCreate
  }

  if (mapping.default) apply(mapping.default)
  const matchedRules: number[] = []
  for (const [index, rule] of mapping.rules.entries()) {
    if (!ruleMatches(rule, patterns[index] ?? null, claims)) continue
    if (rule.deny) return { outcome: 'denied', reason: 'rule', rule: index }
    matchedRules.push(index)
    apply(rule)
  }
  const userEntry = Object.hasOwn(mapping.users, username) ? mapping.users[username] : undefined
  if (userEntry) apply(userEntry)
  if (!mapping.default && matchedRules.length === 0 && !userEntry) return { outcome: 'not-mapped' }

  const filterRules: FilterRule[] = []
  const variableValues: VariableValue[] = []
  for (const [index, attr] of mapping.attributes.entries()) {
    const value = readClaim(claims, attr.claim)
    // A missing claim is no filter (a user *with* any of them is minted through custom).
    if (value === undefined) continue
    const usable = attributeValues(value)
    if ('problem' in usable) {
      return {
        outcome: 'denied',
        reason: 'attribute',
        attribute: index,
        claim: attr.claim,
        problem: usable.problem,
      }
    }
    const { values } = usable
    if (attr.column !== undefined) {
      filterRules.push({ column_name: attr.column, operator: attr.operator ?? 'IN', values })
    } else if (attr.variable !== undefined) {
      variableValues.push({ name: attr.variable, values })
    }
  }

  const sortedGroups = [...groups].sort()
  const digest = createHash('sha256')
    .update(
      JSON.stringify([sortedGroups, orgId, accessLevel, autoCreate, filterRules, variableValues]),
    )
    .digest('base64url')
    .slice(0, 22)
  return {
    outcome: 'mapped',
    access: {
      groups: sortedGroups,
      orgId,
      accessLevel,
      autoCreate,
      filterRules,
      variableValues,
      matchedRules,
      userEntry: userEntry !== undefined,
      digest,
    },
  }
}
