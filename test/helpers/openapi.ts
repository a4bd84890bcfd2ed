/**
 * docs/openapi.yaml as a test oracle: the document is validated with a maintained OpenAPI 3.1
 * validator, then every real response a test gets is checked against the operation it hits
 * (status, content type, body schema with ajv, required headers), and each check records which
 * documented (method, path, status, error code) it covered, so a test can demand that every
 * documented answer was seen.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import YAML from 'yaml'

/** A JSON Schema inside the document (after $ref resolution). */
export type Schema = Record<string, unknown> & {
  allOf?: Schema[]
  properties?: Record<string, Schema>
  enum?: unknown[]
}
/** One documented response. */
export interface ResponseDoc {
  description: string
  headers?: Record<string, { required?: boolean; schema?: Schema }>
  content?: Record<string, { schema?: Schema }>
}
/** One documented operation. */
export interface OperationDoc {
  responses: Record<string, ResponseDoc>
}
/** The parts of the resolved document the checks read. */
export interface OpenApiDoc {
  openapi: string
  paths: Record<string, Record<string, unknown>>
  components: { schemas: Record<string, Schema> }
}

/** What a response looks like to the checker (supertest's Response fits). */
export interface SeenResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text?: string
  body?: unknown
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** The error codes an error response's schema allows (the narrowest `code` enum), if any. */
export function errorCodesOf(schema: Schema | undefined): string[] | undefined {
  if (!schema) return undefined
  const own = schema.properties?.error?.properties?.code?.enum as string[] | undefined
  const nested = (schema.allOf ?? []).map(errorCodesOf).filter((codes) => codes !== undefined)
  const all = [own, ...nested].filter((codes): codes is string[] => codes !== undefined)
  return all.sort((a, b) => a.length - b.length)[0]
}

/** Operations of the document as [path template, method, operation]. */
export function operationsOf(doc: OpenApiDoc): [string, string, OperationDoc][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method): [string, string, OperationDoc] => [
      path,
      method,
      item[method] as OperationDoc,
    ]),
  )
}

const coverageKey = (method: string, path: string, status: string, code?: string): string =>
  `${method.toUpperCase()} ${path} ${status}${code ? ` ${code}` : ''}`

/** A loaded, validated document and the checks against it. */
export class OpenApi {
  readonly doc: OpenApiDoc
  readonly seen = new Set<string>()
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true })
  readonly #compiled = new WeakMap<object, ValidateFunction>()
  readonly #templates: { path: string; pattern: RegExp; literal: number }[]

  private constructor(doc: OpenApiDoc) {
    this.doc = doc
    addFormats.default(this.#ajv)
    // A trailing {param} takes the rest of the path (the proxy's `{path}` holds slashes).
    this.#templates = Object.keys(doc.paths)
      .map((path) => {
        const source = path
          .split(/(\{[^}]+\})/)
          .map((part, index, parts) =>
            part.startsWith('{')
              ? index === parts.length - 2 && parts.at(-1) === ''
                ? '(.+)'
                : '([^/]+)'
              : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          )
          .join('')
        return {
          path,
          pattern: new RegExp(`^${source}$`),
          literal: path.replace(/\{[^}]+\}/g, '').length,
        }
      })
      .sort((a, b) => b.literal - a.literal)
  }

  /** Reads and validates the document; fails the test when it is not valid OpenAPI 3.1. */
  static async load(file: string): Promise<OpenApi> {
    const validator = new Validator()
    const spec = YAML.parse(readFileSync(file, 'utf8')) as Parameters<Validator['validate']>[0]
    const result = await validator.validate(spec)
    assert.ok(result.valid, `${file} is not valid OpenAPI: ${JSON.stringify(result.errors)}`)
    assert.equal(validator.version, '3.1')
    return new OpenApi(validator.resolveRefs() as unknown as OpenApiDoc)
  }

  /** Every (method, path, status, code) the document promises. */
  documented(): Set<string> {
    const keys = new Set<string>()
    for (const [path, method, operation] of operationsOf(this.doc)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const codes = errorCodesOf(response.content?.['application/json']?.schema)
        for (const code of codes ?? [undefined]) keys.add(coverageKey(method, path, status, code))
      }
    }
    return keys
  }

  /** The path template a request path falls under (most literal characters first). */
  templateOf(pathname: string): string {
    const found = this.#templates.find((template) => template.pattern.test(pathname))
    assert.ok(found, `no documented path matches ${pathname}`)
    return found.path
  }

  #validate(schema: Schema | undefined, value: unknown, what: string): void {
    if (!schema) return
    let validate = this.#compiled.get(schema)
    if (!validate) {
      validate = this.#ajv.compile(schema)
      this.#compiled.set(schema, validate)
    }
    assert.ok(
      validate(value),
      `${what}: ${this.#ajv.errorsText(validate.errors)} in ${JSON.stringify(value)?.slice(0, 300)}`,
    )
  }

  /** Checks one response against the document and records what it covered; returns the key. */
  check(method: string, url: string, response: SeenResponse): string {
    const path = this.templateOf(new URL(url, 'http://bff.invalid').pathname)
    const operation = this.doc.paths[path]?.[method.toLowerCase()] as OperationDoc | undefined
    const what = `${method} ${url} → ${response.status}`
    assert.ok(operation, `${what}: ${method} ${path} is not documented`)
    const status = operation.responses[String(response.status)]
      ? String(response.status)
      : 'default'
    const documented = operation.responses[status]
    assert.ok(documented, `${what}: status ${response.status} is not documented for ${path}`)

    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      const value = response.headers[name.toLowerCase()]
      if (header.required) assert.ok(value !== undefined, `${what}: header ${name} is missing`)
      for (const item of value === undefined ? [] : [value].flat()) {
        this.#validate(header.schema, item, `${what}: header ${name}`)
      }
    }

    const contentType = response.headers['content-type']
    let code: string | undefined
    if (!documented.content) {
      assert.equal(response.text ?? '', '', `${what}: no body is documented`)
    } else {
      assert.ok(typeof contentType === 'string', `${what}: a Content-Type`)
      const media = contentType.split(';')[0]!.trim().toLowerCase()
      const entry = documented.content[media] ?? documented.content['*/*']
      assert.ok(entry, `${what}: content type ${media} is not documented`)
      const json = media === 'application/json'
      this.#validate(entry.schema, json ? response.body : response.text, `${what}: body`)
      const codes = errorCodesOf(entry.schema)
      if (codes && json) code = (response.body as { error: { code: string } }).error.code
    }
    const key = coverageKey(method, path, status, code)
    this.seen.add(key)
    return key
  }
}
