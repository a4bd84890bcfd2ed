/**
 * The users-to-groups mapping file, validated once per load. Problems name the file and
 * line; an invalid file is refused as a whole (at start, at reload, and by `npm run mapping`).
 */
import { z } from 'zod'
import { describeIssues, readYamlFile } from '../config/yaml-file.js'
import type { UsernameCase } from '../identity/username.js'
import { compilePattern, type ClaimPattern } from './pattern.js'
import { mappingWarnings } from './warnings.js'

/** ThoughtSpot access levels a mapping may grant. */
export const ACCESS_LEVELS = ['FULL', 'REPORT_BOOK_VIEW'] as const
/** `FULL` or `REPORT_BOOK_VIEW` (object-scoped tokens only). */
export type AccessLevel = (typeof ACCESS_LEVELS)[number]

/** ThoughtSpot's filter_rules operators (docs/THOUGHTSPOT.md, "Minting"). */
export const FILTER_OPERATORS = [
  'EQ',
  'NE',
  'LT',
  'LE',
  'GT',
  'GE',
  'IN',
  'BW',
  'CONTAINS',
  'BEGINS_WITH',
  'ENDS_WITH',
  'BW_INC',
  'BW_INC_MIN',
  'BW_INC_MAX',
  'LIKE',
  'NOT_IN',
] as const

const groupName = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => !/[\p{Cc}]/u.test(name), 'must not contain control characters')

/** What a source (default, rule, user entry) may set. Groups add up; scalars overwrite. */
const grant = {
  groups: z.array(groupName).optional(),
  orgId: z.number().int().min(0).optional(),
  accessLevel: z.enum(ACCESS_LEVELS).optional(),
  autoCreate: z.boolean().optional(),
}

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String)

const condition = z
  .object({
    claim: z.string().min(1),
    equals: scalar.optional(),
    includes: scalar.optional(),
    endsWith: scalar.optional(),
    matches: z
      .string()
      .optional()
      .superRefine((source, ctx) => {
        if (source === undefined) return
        const compiled = compilePattern(source)
        if ('problem' in compiled) {
          ctx.addIssue({
            code: 'custom',
            message: `pattern ${JSON.stringify(source)} refused: ${compiled.problem}`,
          })
        }
      }),
  })
  .strict()
  .superRefine((when, ctx) => {
    const operators = (['equals', 'includes', 'endsWith', 'matches'] as const).filter(
      (op) => when[op] !== undefined,
    )
    if (operators.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs exactly one of equals, includes, endsWith, matches',
      })
    }
  })

const rule = z.object({ when: condition, deny: z.literal(true).optional(), ...grant }).strict()

const attribute = z
  .object({
    claim: z.string().min(1),
    column: z.string().min(1).optional(),
    operator: z.enum(FILTER_OPERATORS).optional(),
    variable: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((attr, ctx) => {
    if ((attr.column === undefined) === (attr.variable === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of column or variable' })
    }
    if (attr.variable !== undefined && attr.operator !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'operator applies to a column, not a variable' })
    }
  })

/** The whole mapping file; `.strict()` everywhere so unknown keys fail with their path. */
export const mappingSchema = z
  .object({
    default: z.object(grant).strict().optional(),
    rules: z.array(rule).default([]),
    users: z.record(z.string().min(1), z.object(grant).strict()).default({}),
    attributes: z.array(attribute).default([]),
  })
  .strict()

/** A parsed mapping file. */
export type Mapping = z.output<typeof mappingSchema>
/** One entry of `rules:`. */
export type MappingRule = Mapping['rules'][number]
/** One entry of `attributes:`. */
export type MappingAttribute = Mapping['attributes'][number]

/** A validated mapping file, ready for `evaluateMapping`. */
export interface LoadedMapping {
  file: string
  mapping: Mapping
  /** Compiled `matches` patterns (RE2, linear-time), index-aligned with `mapping.rules`. */
  patterns: ReadonlyArray<ClaimPattern | null>
  /** 1-based line of each rule in the file, for `explain` and logs. */
  ruleLines: ReadonlyArray<number | undefined>
  /** `file:line: message` for what is valid but probably not meant; never fatal. */
  warnings: readonly string[]
}

const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': ['default', 'rules', 'users', 'attributes'],
  rule: ['when', 'deny', 'groups', 'orgId', 'accessLevel', 'autoCreate'],
  when: ['claim', 'equals', 'includes', 'endsWith', 'matches'],
  grant: ['groups', 'orgId', 'accessLevel', 'autoCreate'],
  attribute: ['claim', 'column', 'operator', 'variable'],
}

function knownKeys(keys: readonly PropertyKey[]): readonly string[] {
  const [top, , third] = keys
  if (keys.length === 0) return KNOWN_KEYS[''] ?? []
  if (top === 'rules') return (third === 'when' ? KNOWN_KEYS.when : KNOWN_KEYS.rule) ?? []
  if (top === 'attributes') return KNOWN_KEYS.attribute ?? []
  return KNOWN_KEYS.grant ?? []
}

/** A loaded mapping, or every problem that refuses it (`file:line: key: message`). */
export type MappingLoadResult = { loaded: LoadedMapping } | { problems: string[] }

/** What the warnings may take into account beyond the file. */
export interface MappingLoadOptions {
  /** `identity.usernameCase`: with `lower`, a `users:` key with capitals can never match. */
  usernameCase?: UsernameCase
}

/** Reads and validates a mapping file; `source` lets tests and reloads pass the text directly. */
export function loadMappingFile(
  path: string,
  source?: string,
  options: MappingLoadOptions = {},
): MappingLoadResult {
  const read = readYamlFile(path, source)
  if ('problems' in read) return read
  const { data, lineOf } = read.file
  const where = (keys: readonly PropertyKey[]): string => {
    const line = lineOf(keys)
    return `${path}${line ? `:${line}` : ''}`
  }
  const parsed = mappingSchema.safeParse(data ?? {})
  if (!parsed.success) return { problems: describeIssues(parsed.error, where, knownKeys) }
  const mapping = parsed.data
  const patterns = mapping.rules.map((r) => {
    if (r.when.matches === undefined) return null
    const compiled = compilePattern(r.when.matches)
    // The schema refused every pattern that does not compile, so this is always a pattern.
    return 'pattern' in compiled ? compiled.pattern : null
  })
  const ruleLines = mapping.rules.map((_, index) => lineOf(['rules', index]))
  const warnings = mappingWarnings(mapping, where, options.usernameCase ?? 'preserve')
  return { loaded: { file: path, mapping, patterns, ruleLines, warnings } }
}
