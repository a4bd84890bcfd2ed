/**
 * Configuration mistakes get the one message that points at the cause (issue 9): a secret given
 * twice or from an empty/unreadable file is that problem alone, not also "missing"; a misspelt
 * variable gets "did you mean" — a warning, and on the refusal line when it is the missing one.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { misspeltVariables } from '../../../src/config/env.js'
import { loadConfig } from '../../../src/config/load.js'
import { StartupError } from '../../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'tsbff-messages-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let counter = 0
function file(text: string): string {
  const path = join(dir, `file-${++counter}`)
  writeFileSync(path, text)
  return path
}

const PRODUCTION = {
  NODE_ENV: 'production',
  TS_HOST: 'https://acme.thoughtspot.cloud',
  TS_SECRET_KEY: 'ts-secret',
  SESSION_SECRET: 's'.repeat(40),
  IDENTITY_HS256_SECRET: 'h'.repeat(40),
  IDENTITY_ISSUER: 'https://idp',
  IDENTITY_AUDIENCE: 'bff',
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ BFF_CONFIG: file(''), ...env })
  } catch (err) {
    if (err instanceof StartupError) return [...err.problems]
    throw err
  }
  assert.fail('expected the config to be refused')
}

describe('a secret that cannot be read is one message, never also "missing"', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'X and X_FILE both set',
      { TS_SECRET_KEY: 'inline', TS_SECRET_KEY_FILE: file('from-file') },
      /^TS_SECRET_KEY and TS_SECRET_KEY_FILE are both set; set only one$/,
    ],
    [
      'an empty X_FILE',
      { TS_SECRET_KEY: '', TS_SECRET_KEY_FILE: file('\n\n') },
      /^TS_SECRET_KEY_FILE: file .* is empty$/,
    ],
    [
      'an unreadable X_FILE',
      { TS_SECRET_KEY: '', TS_SECRET_KEY_FILE: join(dir, 'no-such-file') },
      /^TS_SECRET_KEY_FILE: cannot read file .*no-such-file \(ENOENT\)$/,
    ],
    [
      'an empty SESSION_SECRET_FILE in production',
      { SESSION_SECRET: '', SESSION_SECRET_FILE: file('') },
      /^SESSION_SECRET_FILE: file .* is empty$/,
    ],
    [
      'an unreadable IDENTITY_HS256_SECRET_FILE (the only key source)',
      { IDENTITY_HS256_SECRET: '', IDENTITY_HS256_SECRET_FILE: join(dir, 'gone') },
      /^IDENTITY_HS256_SECRET_FILE: cannot read file .*gone \(ENOENT\)$/,
    ],
  ]
  for (const [name, env, expected] of cases) {
    it(name, () => {
      const problems = problemsOf({ ...PRODUCTION, ...env })
      assert.equal(problems.length, 1, problems.join('\n'))
      assert.match(problems[0]!, expected)
    })
  }

  it('a secret truly missing is still named as missing', () => {
    const problems = problemsOf({ ...PRODUCTION, TS_SECRET_KEY: '' })
    assert.deepEqual(problems, ['missing required setting(s) (NODE_ENV=production): TS_SECRET_KEY'])
  })
})

describe('misspelt variables: "did you mean"', () => {
  it('finds near misses under the BFF prefixes and leaves other tools’ variables alone', () => {
    const found = misspeltVariables({
      TS_SECRETKEY: 'x',
      IDENTITY_JWKS_URI: 'x',
      SESSION_SECRETS: 'x',
      BFF_MAPPINGS: 'x',
      TS_HOSTNAME: 'x',
      TS_NODE_PROJECT: 'tsconfig.json',
      TS_HOST: 'https://known.example',
      PATH: '/usr/bin',
      TS_SECRET_KEYS: '',
    })
    assert.deepEqual(found, [
      { name: 'BFF_MAPPINGS', meant: 'BFF_MAPPING' },
      { name: 'IDENTITY_JWKS_URI', meant: 'IDENTITY_JWKS_URL' },
      { name: 'SESSION_SECRETS', meant: 'SESSION_SECRET' },
      { name: 'TS_HOSTNAME', meant: 'TS_HOST' },
      { name: 'TS_SECRETKEY', meant: 'TS_SECRET_KEY' },
    ])
  })

  it('warns (the start goes on) when the misspelt variable is not needed', () => {
    const config = loadConfig({
      BFF_CONFIG: file(''),
      ...PRODUCTION,
      TS_TOKEN_VALIDITY_SECOND: '600',
    })
    assert.ok(
      config.warnings.includes(
        'environment variable TS_TOKEN_VALIDITY_SECOND is not read by the BFF (did you mean TS_TOKEN_VALIDITY_SECONDS?); it is ignored',
      ),
      config.warnings.join('\n'),
    )
  })

  it('names the misspelling on the refusal line when it is the missing setting', () => {
    const problems = problemsOf({
      ...PRODUCTION,
      TS_SECRET_KEY: '',
      TS_SECRETKEY: 'ts-secret',
      IDENTITY_HS256_SECRET: '',
      IDENTITY_JWKS_URI: 'https://idp/jwks',
    })
    assert.equal(problems.length, 1, problems.join('\n'))
    assert.equal(
      problems[0],
      'missing required setting(s) (NODE_ENV=production): TS_SECRET_KEY, ' +
        'IDENTITY_JWKS_URL | IDENTITY_PUBLIC_KEY_FILE | IDENTITY_HS256_SECRET ' +
        '(IDENTITY_JWKS_URI is set: did you mean IDENTITY_JWKS_URL?; ' +
        'TS_SECRETKEY is set: did you mean TS_SECRET_KEY?)',
    )
  })
})
