import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadConfig, type Config } from '../../../src/config/load.js'
import { StartupError } from '../../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'tsbff-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let counter = 0
function file(text: string): string {
  const path = join(dir, `file-${++counter}`)
  writeFileSync(path, text)
  return path
}

const NORMAL = {
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
  return []
}

function load(env: Record<string, string>, yaml = ''): Config {
  return loadConfig({ BFF_CONFIG: file(yaml), ...env })
}

describe('loadConfig', () => {
  it('enters demo mode with no configuration at all, outside production', () => {
    const config = load({})
    assert.equal(config.mode, 'demo')
    assert.equal(config.server.port, 3000)
    assert.equal(config.tokens.validitySeconds, 300)
    assert.equal(config.secrets.sessionSecrets.length, 1, 'a random session secret is made')
  })

  it('reads the shipped default.yaml without problems', () => {
    const config = loadConfig({ BFF_CONFIG: 'config/default.yaml', ...NORMAL })
    assert.equal(config.mode, 'normal')
    assert.ok(config.proxy.allow.length > 0)
  })

  it('never enters demo mode in production and names every missing setting on one line', () => {
    const problems = problemsOf({ NODE_ENV: 'production' })
    assert.equal(problems.length, 1)
    assert.match(problems[0] ?? '', /NODE_ENV=production/)
    for (const name of [
      'TS_HOST',
      'TS_SECRET_KEY',
      'SESSION_SECRET',
      'IDENTITY_JWKS_URL',
      'IDENTITY_ISSUER',
      'IDENTITY_AUDIENCE',
    ]) {
      assert.match(problems[0] ?? '', new RegExp(name))
    }
  })

  it('names the single missing setting in production', () => {
    const { SESSION_SECRET: _omit, ...rest } = NORMAL
    const problems = problemsOf({ NODE_ENV: 'production', ...rest })
    assert.deepEqual(problems, [
      'missing required setting(s) (NODE_ENV=production): SESSION_SECRET',
    ])
  })

  it('lets environment variables override the file', () => {
    const config = load(
      {
        ...NORMAL,
        PORT: '8080',
        TS_AUTH_API: 'v1',
        CORS_ORIGINS: 'https://a.example, https://b.example',
        LOG_LEVEL: 'warn',
        TS_TOKEN_VALIDITY_SECONDS: '600',
        // The shipped mapping has row filters, which v1 cannot mint: a plain one here.
        BFF_MAPPING: file('default: { groups: [embed_viewers] }\n'),
      },
      'server: { port: 9000 }\n',
    )
    assert.equal(config.server.port, 8080)
    assert.equal(config.thoughtspot.authApi, 'v1')
    assert.deepEqual(config.server.cors.origins, ['https://a.example', 'https://b.example'])
    assert.equal(config.logging.level, 'warn')
    assert.equal(config.tokens.validitySeconds, 600)
  })

  it('reads *_FILE secrets and trims trailing whitespace', () => {
    const config = load({
      ...NORMAL,
      TS_SECRET_KEY: '',
      TS_SECRET_KEY_FILE: file('from-file\n\n'),
      SESSION_SECRET: '',
      SESSION_SECRET_FILE: file(`${'a'.repeat(32)},${'b'.repeat(32)}\n`),
    })
    assert.equal(config.secrets.tsSecretKey, 'from-file')
    assert.deepEqual(config.secrets.sessionSecrets, ['a'.repeat(32), 'b'.repeat(32)])
  })

  it('refuses a secret given twice, and an unreadable secret file', () => {
    assert.match(
      problemsOf({ ...NORMAL, TS_SECRET_KEY_FILE: file('x') }).join('\n'),
      /TS_SECRET_KEY and TS_SECRET_KEY_FILE are both set/,
    )
    assert.match(
      problemsOf({ ...NORMAL, TS_SECRET_KEY: '', TS_SECRET_KEY_FILE: join(dir, 'nope') }).join(
        '\n',
      ),
      /TS_SECRET_KEY_FILE: cannot read file .*ENOENT/,
    )
  })

  it('refuses two identity key sources', () => {
    assert.match(
      problemsOf({ ...NORMAL, IDENTITY_JWKS_URL: 'https://idp/jwks' }).join('\n'),
      /IDENTITY_JWKS_URL and IDENTITY_HS256_SECRET are all set/,
    )
  })

  it('names the file, line and key of unknown keys and wrong types, all at once, with hints', () => {
    const path = file(
      'server:\n  prot: 3000\n  trustProxy: "yes"\nthoughtspot:\n  timeoutMs: -5\nbogus: 1\n',
    )
    let problems: readonly string[] = []
    try {
      loadConfig({ BFF_CONFIG: path, ...NORMAL })
    } catch (err) {
      problems = (err as StartupError).problems
    }
    const text = problems.join('\n')
    assert.equal(problems.length, 4, text)
    assert.match(
      text,
      new RegExp(`${path}:2: server\\.prot: unknown key \\(did you mean "port"\\?\\)`),
    )
    assert.match(text, new RegExp(`${path}:3: server\\.trustProxy:`))
    assert.match(text, new RegExp(`${path}:5: thoughtspot\\.timeoutMs:`))
    assert.match(text, new RegExp(`${path}:6: bogus: unknown key`))
  })

  it('names the environment variable when an env value is wrong', () => {
    assert.match(
      problemsOf({ ...NORMAL, PORT: 'eighty' }).join('\n'),
      /environment variable PORT: server\.port/,
    )
    assert.match(
      problemsOf({ ...NORMAL, TS_AUTH_API: 'v3' }).join('\n'),
      /environment variable TS_AUTH_API/,
    )
    assert.match(
      problemsOf({ ...NORMAL, TS_HOST: 'ftp://x' }).join('\n'),
      /environment variable TS_HOST: thoughtspot\.host: must be an http\(s\) URL/,
    )
    assert.match(problemsOf({ ...NORMAL, CORS_ORIGINS: '*' }).join('\n'), /CORS_ORIGINS/)
  })

  it('refuses a BFF_CONFIG that does not exist and invalid YAML with its line', () => {
    assert.match(
      problemsOf({ BFF_CONFIG: join(dir, 'missing.yaml') }).join('\n'),
      /cannot read the file \(ENOENT\)/,
    )
    let problems: readonly string[] = []
    try {
      loadConfig({ BFF_CONFIG: file('server:\n  port: [1\n') })
    } catch (err) {
      problems = (err as StartupError).problems
    }
    assert.match(problems.join('\n'), /:\d+: invalid YAML/)
  })

  it('warns about a plain-http ThoughtSpot', () => {
    const config = load({ ...NORMAL, TS_HOST: 'http://127.0.0.1:1234' })
    assert.ok(config.warnings.some((w) => w.includes('plain http')))
  })

  it('refuses minRemainingSeconds above half the validity instead of correcting it', () => {
    let problems: readonly string[] = []
    try {
      load(NORMAL, 'tokens: { validitySeconds: 120, minRemainingSeconds: 100 }\n')
    } catch (err) {
      problems = (err as StartupError).problems
    }
    assert.match(
      problems.join('\n'),
      /tokens\.minRemainingSeconds: 100 is more than half .* at most 60/,
    )
  })

  it('reports config, allowlist, mapping and key-file problems in one pass', () => {
    const mapping = file('rules:\n  - when: { claim: roles }\n    groups: [x]\n')
    let problems: readonly string[] = []
    try {
      loadConfig({
        ...NORMAL,
        IDENTITY_HS256_SECRET: '',
        IDENTITY_PUBLIC_KEY_FILE: join(dir, 'no-such-key.pem'),
        BFF_CONFIG: file(
          'tokens: { validitySeconds: 120, minRemainingSeconds: 100 }\n' +
            'proxy:\n  allow:\n    - { method: POST, path: /api/rest/2.0/auth/token/full }\n',
        ),
        BFF_MAPPING: mapping,
      })
    } catch (err) {
      problems = (err as StartupError).problems
    }
    const text = problems.join('\n')
    assert.match(text, /tokens\.minRemainingSeconds/)
    assert.match(text, /proxy\.allow\[0\]: .*always refused/)
    assert.match(text, new RegExp(`${mapping}:2: rules\\.0\\.when: needs exactly one of`))
    assert.match(text, /IDENTITY_PUBLIC_KEY_FILE: cannot read .*no-such-key\.pem \(ENOENT\)/)
    assert.equal(problems.length, 4, text)
  })

  it('deep-freezes the result', () => {
    const config = load(NORMAL)
    assert.ok(Object.isFrozen(config.server.cors.origins))
    assert.throws(() => {
      ;(config.server as { port: number }).port = 1
    }, TypeError)
  })

  it('refuses a proxy.allow rule with an unknown method or empty groups, naming the line', () => {
    let problems: readonly string[] = []
    try {
      load(
        NORMAL,
        'proxy:\n  allow:\n    - { method: FETCH, path: /api/rest/2.0/a }\n    - { method: GET, path: /api/rest/2.0/b, groups: [] }\n',
      )
    } catch (err) {
      problems = (err as StartupError).problems
    }
    const text = problems.join('\n')
    assert.match(text, /:3: proxy\.allow\.0\.method: /)
    assert.match(text, /:4: proxy\.allow\.1\.groups: /)
  })

  it('refuses weak secrets', () => {
    assert.match(
      problemsOf({ ...NORMAL, SESSION_SECRET: 'short' }).join('\n'),
      /SESSION_SECRET: each secret must be at least 32/,
    )
    assert.match(
      problemsOf({ ...NORMAL, IDENTITY_HS256_SECRET: 'short' }).join('\n'),
      /at least 32 bytes/,
    )
  })
})
