/**
 * docs/CONFIGURATION.md is generated from the config schema (scripts/config-reference.ts). These
 * tests keep the committed file current, check that the generator covers every key the loader
 * accepts, and that the environment variables it names really set those keys.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { collectConfigKeys, describeType, secretVariables } from '../../scripts/config-keys.js'
import { REFERENCE_FILE, renderConfigReference } from '../../scripts/config-reference.js'
import { ENV_OVERRIDES } from '../../src/config/env.js'
import { loadConfig } from '../../src/config/load.js'
import { StartupError } from '../../src/errors.js'
import { configSchema } from '../../src/config/schema.js'
import { ROOT } from '../helpers/child-process.js'

/** Dotted paths of every leaf of the built-in defaults (lists and empty maps are leaves). */
function leaves(node: unknown, path: string[] = []): string[] {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return [path.join('.')]
  if (Object.keys(node).length === 0) return [path.join('.')]
  return Object.entries(node).flatMap(([key, value]) => leaves(value, [...path, key]))
}

const keys = collectConfigKeys()
const byPath = new Map(keys.map((key) => [key.path, key]))

describe('docs/CONFIGURATION.md', () => {
  it('is the generator output for the current schema', async () => {
    const committed = readFileSync(join(ROOT, REFERENCE_FILE), 'utf8')
    assert.ok(
      committed === (await renderConfigReference()),
      `${REFERENCE_FILE} is out of date with src/config/schema.ts: run npm run docs:config and commit it`,
    )
  })

  it('lists every key the config schema has, and no other', () => {
    const schemaKeys = leaves(configSchema.parse({}))
    const documented = keys.map((key) => key.path).filter((path) => !path.includes('[]'))
    assert.deepEqual(documented, schemaKeys)
    for (const key of keys) {
      assert.ok(
        key.description.length > 0,
        `${key.path} has no description: add a comment beside it in config/default.yaml or a .describe() in src/config/schema.ts`,
      )
      assert.notEqual(key.type, 'any', `${key.path} has a type`)
    }
  })

  it('names each ENV_OVERRIDES variable at the key it sets', () => {
    for (const [name, [path]] of Object.entries(ENV_OVERRIDES)) {
      assert.ok(byPath.get(path.join('.'))?.env.includes(name), `${name} at ${path.join('.')}`)
    }
  })

  it('pairs the loader’s secret variables with their file keys, and the loader agrees', () => {
    const found = [...byPath.values()].flatMap((key) =>
      key.env.filter((name) => name.endsWith('_FILE')).map((name) => [name, key.path] as const),
    )
    // The three secrets at least; the scan of src/config must not silently lose them.
    for (const name of [
      'TS_SECRET_KEY_FILE',
      'SESSION_SECRET_FILE',
      'IDENTITY_HS256_SECRET_FILE',
    ]) {
      assert.ok(
        found.some(([variable]) => variable === name),
        `${name}: not found in src/config`,
      )
    }
    const dir = mkdtempSync(join(tmpdir(), 'tsbff-config-ref-'))
    try {
      for (const [fileVariable, path] of found) {
        if (ENV_OVERRIDES[fileVariable]) continue // a plain override, e.g. IDENTITY_PUBLIC_KEY_FILE
        // Setting the variable and the key at once is refused, naming both: they are one setting.
        const secretFile = join(dir, 'secret')
        writeFileSync(secretFile, 'x'.repeat(40))
        const [section, key] = path.split('.')
        const configFile = join(dir, 'config.yaml')
        writeFileSync(configFile, `${section}:\n  ${key}: ${secretFile}\n`)
        assert.throws(
          () =>
            loadConfig({ NODE_ENV: 'test', BFF_CONFIG: configFile, [fileVariable]: secretFile }),
          (err: unknown) =>
            err instanceof StartupError &&
            err.problems.some(
              (problem) => problem.includes(fileVariable) && problem.includes(path),
            ),
          `${fileVariable} and ${path} are the same secret`,
        )
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('shows built-in defaults, and says where config/default.yaml differs', () => {
    assert.equal(byPath.get('server.port')?.default, '`3000`')
    assert.equal(byPath.get('thoughtspot.host')?.default, '`null`')
    assert.equal(byPath.get('proxy.allow[].method')?.default, 'required')
    assert.equal(byPath.get('proxy.allow[].groups')?.default, 'optional')
    assert.match(byPath.get('proxy.allow')?.description ?? '', /config\/default\.yaml` sets \d+/)
  })
})

describe('the generator', () => {
  it('needs no change for new keys: nested objects, maps, lists and descriptions', () => {
    const extended = configSchema.extend({
      audit: z
        .object({
          destination: z.string().default('stdout').describe('where audit lines go'),
          nested: z
            .object({ depth: z.number().int().min(1).default(2) })
            .strict()
            .prefault({}),
        })
        .strict()
        .prefault({}),
      orgSecretKeyFiles: z.record(z.string(), z.string()).default({}),
    })
    const found = new Map(collectConfigKeys(extended).map((key) => [key.path, key]))
    assert.deepEqual(found.get('audit.destination'), {
      path: 'audit.destination',
      type: 'string',
      default: '`"stdout"`',
      env: [],
      description: 'where audit lines go',
    })
    assert.equal(found.get('audit.nested.depth')?.type, 'integer ≥ 1')
    assert.equal(found.get('audit.nested.depth')?.default, '`2`')
    assert.equal(found.get('orgSecretKeyFiles')?.type, 'map of name to string')
    assert.equal(found.get('orgSecretKeyFiles')?.default, '`{}`')
  })

  it('describes types compactly', () => {
    const cases: [Parameters<typeof describeType>[0], string][] = [
      [{ type: 'integer', minimum: 0, maximum: 65535 }, 'integer 0–65535'],
      [{ type: 'integer', exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER }, 'integer ≥ 1'],
      [{ type: ['string', 'null'] }, 'string or null'],
      [{ anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 1 }] }, 'boolean or integer ≥ 1'],
      [{ type: 'string', enum: ['v2', 'v1'] }, '`v2` | `v1`'],
      [{ type: 'array', items: { type: 'string' } }, 'list of string'],
    ]
    for (const [schema, expected] of cases) assert.equal(describeType(schema), expected)
  })

  it('finds a secret variable and its file key in a loader call, across lines', () => {
    const source = `const a = secret(\n  'FOO_SECRET',\n  file.foo.secretFile,\n  'foo.secretFile',\n)`
    assert.deepEqual([...secretVariables([source])], [['foo.secretFile', 'FOO_SECRET']])
    assert.equal(secretVariables(["const list = ['TS_HOST', 'TS_SECRET_KEY']"]).size, 0)
  })
})
