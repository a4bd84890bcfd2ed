/**
 * Claims × mapping → what the user may be in ThoughtSpot (SPEC §4). A pure function: no I/O, no
 * clock, so the table of cases in test/unit/mapping covers it completely.
 */
import { createHash } from 'node:crypto'
import type { AccessLevel, LoadedMapping, MappingRule } from './schema.js'

export interface FilterRule {
  column_name: string
  operator: string
  values: Array<string | number | boolean>
}

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

export type Evaluation =
  | { outcome: 'mapped'; access: Access }
  | { outcome: 'not-mapped' }
  | { outcome: 'denied'; rule: number }

/** Claim values longer than this are never tested against operator patterns. */
const MAX_TESTED_LENGTH = 1024

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

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length <= MAX_TESTED_LENGTH ? value : undefined
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

function ruleMatches(
  rule: MappingRule,
  pattern: RegExp | null,
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

function attributeValues(value: unknown): Array<string | number | boolean> | undefined {
  const items = Array.isArray(value) ? value : [value]
  const values = items.filter(
    (item): item is string | number | boolean =>
      typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean',
  )
  return values.length > 0 ? values : undefined
}

export function evaluateMapping(
  loaded: LoadedMapping,
  username: string,
  claims: Readonly<Record<string, unknown>>,
): Evaluation {
  const { mapping, patterns } = loaded
  // Built-in base (SPEC §4), then default, then each matching rule, then the user entry.
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
    if (rule.deny) return { outcome: 'denied', rule: index }
    matchedRules.push(index)
    apply(rule)
  }
  const userEntry = Object.hasOwn(mapping.users, username) ? mapping.users[username] : undefined
  if (userEntry) apply(userEntry)
  if (!mapping.default && matchedRules.length === 0 && !userEntry) return { outcome: 'not-mapped' }

  const filterRules: FilterRule[] = []
  const variableValues: VariableValue[] = []
  for (const attr of mapping.attributes) {
    const values = attributeValues(readClaim(claims, attr.claim))
    if (!values) continue
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
