/**
 * What docs/CONFIGURATION.md says of each config key, collected from the code: keys, types and
 * nesting from the zod schema (as JSON Schema), defaults from parsing an empty file, variables
 * from ENV_OVERRIDES and the loader's secret readers, descriptions from `.describe()` or else the
 * comments beside each key in config/default.yaml.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMap, isPair, isScalar, parseDocument, type Node, type Pair } from 'yaml'
import { z } from 'zod'
import { ENV_OVERRIDES } from '../src/config/env.js'
import { configSchema } from '../src/config/schema.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The shipped config file whose comments describe the keys. */
export const DEFAULT_FILE = 'config/default.yaml'

/** One documented config key. */
export interface ConfigKey {
  /** Dotted path; `[]` marks the items of a list, e.g. `proxy.allow[].method`. */
  path: string
  type: string
  /** The built-in default as YAML-ish text, `required` or `optional` for list item fields. */
  default: string
  /** Variables that set the key (or the secret the key's file holds). */
  env: string[]
  description: string
}

/** The parts of JSON Schema the config schema produces. */
export type JsonSchema = {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  required?: string[]
  description?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
}

const SAFE_MAX = Number.MAX_SAFE_INTEGER

function numberType(schema: JsonSchema, name: string): string {
  const min =
    schema.exclusiveMinimum !== undefined
      ? name === 'integer'
        ? schema.exclusiveMinimum + 1
        : undefined
      : schema.minimum
  const max = schema.maximum !== undefined && schema.maximum < SAFE_MAX ? schema.maximum : undefined
  if (min !== undefined && max !== undefined) return `${name} ${min}–${max}`
  if (min !== undefined) return `${name} ≥ ${min}`
  if (max !== undefined) return `${name} ≤ ${max}`
  return name
}

/** A short human type: `integer 0–65535`, `string or null`, `list of string`, `` `v2` | `v1` ``. */
export function describeType(schema: JsonSchema): string {
  const literal = (value: unknown): string =>
    `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``
  if (schema.enum) return schema.enum.map(literal).join(' | ')
  if (schema.const !== undefined) return literal(schema.const)
  const branches = schema.anyOf ?? schema.oneOf
  if (branches) return [...new Set(branches.map(describeType))].join(' or ')
  if (Array.isArray(schema.type)) {
    return schema.type.map((type) => describeType({ ...schema, type })).join(' or ')
  }
  switch (schema.type) {
    case 'integer':
    case 'number':
      return numberType(schema, schema.type)
    case 'array':
      return `list of ${schema.items?.properties ? 'objects (fields below)' : describeType(schema.items ?? {})}`
    case 'object':
      return typeof schema.additionalProperties === 'object'
        ? `map of name to ${describeType(schema.additionalProperties)}`
        : 'object'
    case undefined:
      return 'any'
    default:
      return schema.type
  }
}

/** The comment written beside (or above) each key of config/default.yaml, by dotted path. */
export function yamlComments(text: string): Map<string, string> {
  const comments = new Map<string, string>()
  const clean = (comment: string | null | undefined): string =>
    (comment ?? '')
      .split('\n')
      .map((line) => line.trim())
      .join(' ')
      .trim()
  const walk = (node: unknown, path: string[]): void => {
    if (!isMap(node)) return
    node.items.forEach((pair: Pair, index) => {
      if (!isPair(pair) || !isScalar(pair.key)) return
      const key = [...path, String(pair.key.value)]
      const value = pair.value as Node | null
      // The yaml parser hangs the comment above a map's first key on the map itself.
      const above = clean(pair.key.commentBefore) || (index === 0 ? clean(node.commentBefore) : '')
      const beside = isScalar(value) || !isMap(value) ? clean(value?.comment) : ''
      const text = [above, beside].filter(Boolean).join(' ')
      if (path.length > 0 && text) comments.set(key.join('.'), text)
      walk(value, key)
    })
  }
  walk(parseDocument(text).contents, [])
  return comments
}

/**
 * Secret variables and the config key holding the same secret's file, as the loader pairs them:
 * a call that names an env variable and then a dotted config key, e.g.
 * `secret('TS_SECRET_KEY', file.thoughtspot.secretKeyFile, 'thoughtspot.secretKeyFile')`.
 */
export function secretVariables(sources: readonly string[]): Map<string, string> {
  const pairs = new Map<string, string>()
  const pattern =
    /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'[^;'`]*?'([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+)'/g
  for (const source of sources) {
    for (const [, variable, key] of source.matchAll(pattern)) {
      if (variable && key) pairs.set(key, variable)
    }
  }
  return pairs
}

/** The text of every source file under src/config, where the loader reads the secrets. */
export function configSources(dir = join(ROOT, 'src/config')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return configSources(path)
    return entry.name.endsWith('.ts') ? [readFileSync(path, 'utf8')] : []
  })
}

function valueAt(tree: unknown, path: readonly string[]): unknown {
  let node = tree
  for (const key of path) node = (node as Record<string, unknown> | undefined)?.[key]
  return node
}

function shown(value: unknown): string {
  if (value === undefined) return '—'
  if (Array.isArray(value) && value.some((item) => typeof item === 'object')) {
    return `${value.length} ${value.length === 1 ? 'entry' : 'entries'}`
  }
  return `\`${JSON.stringify(value)}\``
}

/**
 * Every config key the schema accepts, in schema order, with what the reference says of it.
 * `source` is the config schema unless a test passes an extended one.
 */
export function collectConfigKeys(source: z.ZodType = configSchema): ConfigKey[] {
  const schema = z.toJSONSchema(source, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema
  const defaults = source.parse({})
  const shippedText = readFileSync(join(ROOT, DEFAULT_FILE), 'utf8')
  const shipped = source.safeParse(parseDocument(shippedText).toJS())
  const comments = yamlComments(shippedText)
  const envByKey = new Map<string, string[]>()
  for (const [name, [path]] of Object.entries(ENV_OVERRIDES)) {
    envByKey.set(path.join('.'), [...(envByKey.get(path.join('.')) ?? []), name])
  }
  for (const [key, name] of secretVariables(configSources())) {
    envByKey.set(key, [...(envByKey.get(key) ?? []), `${name}_FILE`, name])
  }

  const keys: ConfigKey[] = []
  const visit = (node: JsonSchema, path: string[], inList: JsonSchema | null): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const keyPath = [...path, name]
      const dotted = keyPath.join('.')
      if (child.type === 'object' && child.properties) {
        visit(child, keyPath, inList)
        continue
      }
      const plain = dotted.replace(/\[\]/g, '')
      const env = envByKey.get(plain) ?? []
      let description = child.description ?? comments.get(plain) ?? ''
      for (const variable of env) {
        description = description.replace(new RegExp(`^${variable}:\\s*`), '')
      }
      let fallback: string
      if (inList) fallback = node.required?.includes(name) ? 'required' : 'optional'
      else fallback = shown(valueAt(defaults, keyPath))
      if (!inList && shipped.success) {
        const ship = valueAt(shipped.data, keyPath)
        if (JSON.stringify(ship) !== JSON.stringify(valueAt(defaults, keyPath))) {
          description += ` \`${DEFAULT_FILE}\` sets ${shown(ship)}.`
        }
      }
      keys.push({ path: dotted, type: describeType(child), default: fallback, env, description })
      if (child.type === 'array' && child.items?.properties) {
        visit(child.items, [...keyPath.slice(0, -1), `${name}[]`], child.items)
      }
    }
  }
  visit(schema, [], null)
  return keys
}
