/**
 * What a mapping file can say validly but probably does not mean: group names that ThoughtSpot
 * would see as two groups, rules that set nothing, deny rules that a claim's shape or case slips
 * past, `users:` keys no username can equal. Warnings never refuse a file (`check --strict` can).
 */
import { normaliseUsername, type UsernameCase } from '../identity/username.js'
import type { Mapping, MappingRule } from './schema.js'

type Where = (keys: readonly PropertyKey[]) => string

/** Invisible and combining characters written as `\u{…}`, so a warning shows what differs. */
export function visible(text: string): string {
  return JSON.stringify(text).replace(
    /[\p{M}\p{Cf}\p{Z}\p{Default_Ignorable_Code_Point}]/gu,
    (char) => (char === ' ' ? char : `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`),
  )
}

/** Every group name, where it is written. */
function groupOccurrences(mapping: Mapping): Array<{ name: string; keys: PropertyKey[] }> {
  const found: Array<{ name: string; keys: PropertyKey[] }> = []
  const add = (groups: readonly string[] | undefined, prefix: PropertyKey[]): void => {
    for (const [index, name] of (groups ?? []).entries()) {
      found.push({ name, keys: [...prefix, 'groups', index] })
    }
  }
  add(mapping.default?.groups, ['default'])
  for (const [index, rule] of mapping.rules.entries()) add(rule.groups, ['rules', index])
  for (const [user, entry] of Object.entries(mapping.users)) add(entry.groups, ['users', user])
  return found
}

const foldGroup = (name: string): string => name.normalize('NFC').trim().toLowerCase()

function groupWarnings(mapping: Mapping, where: Where): string[] {
  const warnings: string[] = []
  const spellings = new Map<string, Map<string, PropertyKey[]>>()
  for (const { name, keys } of groupOccurrences(mapping)) {
    if (name.trim() !== name && !spellings.get(foldGroup(name))?.has(name)) {
      warnings.push(
        `${where(keys)}: ${keys.join('.')}: group ${JSON.stringify(name)} has surrounding whitespace`,
      )
    }
    const byFold = spellings.get(foldGroup(name)) ?? new Map<string, PropertyKey[]>()
    if (!byFold.has(name)) byFold.set(name, keys)
    spellings.set(foldGroup(name), byFold)
  }
  for (const byFold of spellings.values()) {
    if (byFold.size < 2) continue
    const firstKeys = byFold.values().next().value ?? []
    const listed = [...byFold].map(([name, keys]) => `${JSON.stringify(name)} (${keys.join('.')})`)
    warnings.push(
      `${where(firstKeys)}: groups ${listed.join(', ')} differ only by case or surrounding whitespace; ThoughtSpot treats each spelling as its own group`,
    )
  }
  return warnings
}

function setsSomething(rule: MappingRule): boolean {
  return (
    (rule.groups?.length ?? 0) > 0 ||
    rule.orgId !== undefined ||
    rule.accessLevel !== undefined ||
    rule.autoCreate !== undefined
  )
}

const CASE_INSENSITIVE_FLAG = /\(\?[a-zA-Z]*i[a-zA-Z]*(?:-[a-zA-Z]*)?[:)]/

/** The ways a claim can fail to match a deny rule although it means what the rule refuses. */
export function denyEvasions(rule: MappingRule): string[] {
  const { equals, includes, endsWith, matches } = rule.when
  const value = equals ?? includes ?? endsWith ?? matches ?? ''
  const evasions: string[] = []
  if (includes === undefined) {
    const example = equals !== undefined ? ` ${JSON.stringify([equals])}` : ''
    evasions.push(`a list${example} (only includes looks into lists)`)
  }
  const cased = value.toLowerCase() !== value.toUpperCase()
  if (matches !== undefined) {
    if (!CASE_INSENSITIVE_FLAG.test(matches)) evasions.push('another case (add (?i))')
  } else if (cased) {
    const other = value.toUpperCase() !== value ? value.toUpperCase() : value.toLowerCase()
    evasions.push(`another case ${JSON.stringify(endsWith === undefined ? other : `…${other}`)}`)
  }
  if (equals !== undefined || includes !== undefined) {
    evasions.push(`surrounding whitespace ${JSON.stringify(`${value} `)}`)
  } else if (endsWith !== undefined) {
    evasions.push(`trailing whitespace ${JSON.stringify(`…${value} `)}`)
  }
  return evasions
}

function ruleWarnings(mapping: Mapping, where: Where): string[] {
  const warnings: string[] = []
  for (const [index, rule] of mapping.rules.entries()) {
    const keys = ['rules', index]
    const at = `${where(keys)}: rules.${index}`
    if (rule.deny) {
      if (setsSomething(rule)) {
        warnings.push(`${at}: a deny rule refuses the user; its other settings never apply`)
      }
      const op = (['equals', 'includes', 'endsWith', 'matches'] as const).find(
        (name) => rule.when[name] !== undefined,
      )
      warnings.push(
        `${at}: deny ${rule.when.claim} ${op ?? '?'} ${JSON.stringify(rule.when[op ?? 'equals'])} is not matched by ${denyEvasions(rule).join(', ')}; make sure the identity provider sends exactly this, or add a rule per spelling`,
      )
    } else if (!setsSomething(rule)) {
      warnings.push(
        `${at}: sets nothing (no groups, orgId, accessLevel, autoCreate or deny)${mapping.default ? '' : '; without a default it only admits matching users, with no groups'}`,
      )
    }
  }
  return warnings
}

function userWarnings(mapping: Mapping, where: Where, usernameCase: UsernameCase): string[] {
  const warnings: string[] = []
  for (const user of Object.keys(mapping.users)) {
    const at = `${where(['users', user])}: users[${visible(user)}]`
    const result = normaliseUsername(user, usernameCase)
    if ('problem' in result) {
      warnings.push(`${at}: never matches: the key ${result.problem}, which no username may`)
    } else if (result.username !== user) {
      const how =
        usernameCase === 'lower'
          ? 'to Unicode NFC and lower case'
          : 'to Unicode NFC (composed accents)'
      warnings.push(
        `${at}: never matches: usernames are normalised ${how}; write it as ${visible(result.username)}`,
      )
    }
  }
  return warnings
}

/** Every warning for a parsed mapping, as `file:line: key: message` lines. */
export function mappingWarnings(
  mapping: Mapping,
  where: Where,
  usernameCase: UsernameCase,
): string[] {
  const all = [
    ...groupWarnings(mapping, where),
    ...ruleWarnings(mapping, where),
    ...userWarnings(mapping, where, usernameCase),
  ]
  // In file order, like the problems: `file:line:` leads every warning.
  const lineOf = (warning: string): number => Number(/^[^\n]*?:(\d+): /.exec(warning)?.[1] ?? 0)
  return all.sort((a, b) => lineOf(a) - lineOf(b))
}
