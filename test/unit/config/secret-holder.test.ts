/**
 * The secrets holder (issue 9 §2): every secret that came from a file is read again on demand;
 * a changed file rotates it, a broken one (unreadable, empty, too short) is refused and the old
 * value stays, logged at error without the value. Per-org keys choose the key per mint.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createSecretsHolder, type SecretSetting } from '../../../src/config/secret-holder.js'
import type { Secrets } from '../../../src/config/secrets.js'
import { createLogger } from '../../../src/observability/logger.js'
import { createSealer } from '../../../src/state/redis/sealed.js'

const OLD_KEY = 'old-cluster-key-3f9a'
const NEW_KEY = 'new-cluster-key-8c21'
const ORG_KEY = 'org-42-key-55d0'
const SESSION_A = 'session-secret-a-'.padEnd(40, 'a')
const SESSION_B = 'session-secret-b-'.padEnd(40, 'b')
const HS_OLD = 'hs256-old-secret-'.padEnd(40, 'o')

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbff-secrets-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** A holder over files written now, with what it logged and told the metrics. */
function holder(files: { ts?: string; org42?: string; session?: string; hs?: string }) {
  const path = (name: string, text: string | undefined): string | undefined => {
    if (text === undefined) return undefined
    const file = join(dir, `${name}-${Math.random().toString(36).slice(2)}`)
    writeFileSync(file, `${text}\n`)
    return file
  }
  const ts = path('ts', files.ts)
  const org42 = path('org42', files.org42)
  const session = path('session', files.session)
  const hs = path('hs', files.hs)
  const secrets: Secrets = {
    tsSecretKey: files.ts ?? 'inline-key',
    orgSecretKeys: files.org42 ? { '42': files.org42 } : {},
    sessionSecrets: (files.session ?? SESSION_A).split(','),
    identityHs256Secret: files.hs ?? null,
    files: {
      tsSecretKey: ts ? { path: ts, origin: 'TS_SECRET_KEY_FILE' } : null,
      sessionSecrets: session ? { path: session, origin: 'SESSION_SECRET_FILE' } : null,
      identityHs256Secret: hs ? { path: hs, origin: 'IDENTITY_HS256_SECRET_FILE' } : null,
      orgSecretKeys: org42 ? { '42': { path: org42, origin: 'c.yaml: orgSecretKeyFiles.42' } } : {},
    },
  }
  const lines: Record<string, unknown>[] = []
  const outcomes: [SecretSetting, string][] = []
  const log = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  })
  const made = createSecretsHolder(secrets, {
    log,
    onOutcome: (setting, outcome) => outcomes.push([setting, outcome]),
  })
  return { made, lines, outcomes, files: { ts, org42, session, hs } }
}

describe('the ThoughtSpot keys', () => {
  it('mints with an org’s own key in that org, and with the cluster key elsewhere', () => {
    const { made } = holder({ ts: OLD_KEY, org42: ORG_KEY })
    assert.equal(made.tsSecretKeyFor(42), ORG_KEY)
    assert.equal(made.tsSecretKeyFor(0), OLD_KEY)
    assert.equal(made.tsSecretKeyFor(7), OLD_KEY)
  })

  it('takes a rotated key file at once, and reports an unchanged one as such', () => {
    const { made, lines, outcomes, files } = holder({ ts: OLD_KEY, org42: ORG_KEY })
    writeFileSync(files.ts!, `${NEW_KEY}\n`)
    const report = made.reload()
    assert.deepEqual(
      report.map(({ setting, outcome }) => [setting, outcome]),
      [
        ['TS_SECRET_KEY', 'rotated'],
        ['TS_ORG_SECRET_KEY', 'unchanged'],
      ],
    )
    assert.equal(made.tsSecretKeyFor(0), NEW_KEY)
    assert.equal(made.tsSecretKeyFor(42), ORG_KEY)
    assert.deepEqual(outcomes, [['TS_SECRET_KEY', 'rotated']])
    const rotated = lines.find((line) => line.event === 'secrets.rotated')
    assert.equal(rotated?.setting, 'TS_SECRET_KEY')
    assert.equal(rotated?.file, files.ts)
    assert.equal(JSON.stringify(lines).includes(NEW_KEY), false, 'never the key itself')
  })

  it('keeps the old key when the new file is empty or gone, logging at error', () => {
    const { made, lines, outcomes, files } = holder({ ts: OLD_KEY, org42: ORG_KEY })
    writeFileSync(files.ts!, '  \n')
    unlinkSync(files.org42!)
    const report = made.reload()
    assert.deepEqual(
      report.map(({ outcome }) => outcome),
      ['rejected', 'rejected'],
    )
    assert.equal(made.tsSecretKeyFor(0), OLD_KEY)
    assert.equal(made.tsSecretKeyFor(42), ORG_KEY)
    const rejected = lines.filter((line) => line.event === 'secrets.rejected')
    assert.deepEqual(
      rejected.map((line) => line.level),
      ['error', 'error'],
    )
    assert.match(JSON.stringify(rejected[0]?.problems), /TS_SECRET_KEY_FILE: file .* is empty/)
    assert.match(
      JSON.stringify(rejected[1]?.problems),
      /orgSecretKeyFiles\.42: cannot read .*ENOENT/,
    )
    assert.equal(rejected[1]?.orgId, 42)
    assert.deepEqual(outcomes, [
      ['TS_SECRET_KEY', 'rejected'],
      ['TS_ORG_SECRET_KEY', 'rejected'],
    ])
  })

  it('never re-reads an inline key', () => {
    const { made } = holder({})
    assert.deepEqual(made.reload(), [])
    assert.equal(made.tsSecretKeyFor(0), 'inline-key')
  })
})

describe('the session secrets', () => {
  it('rotate to a new list (a new array) and refuse a list with a short secret', () => {
    const { made, files, lines } = holder({ session: SESSION_A })
    const before = made.sessionSecrets()
    assert.equal(made.sessionSecrets(), before, 'the same array while nothing changes')
    writeFileSync(files.session!, `${SESSION_B}, ${SESSION_A}\n`)
    made.reload()
    assert.deepEqual(made.sessionSecrets(), [SESSION_B, SESSION_A])
    assert.notEqual(made.sessionSecrets(), before)
    writeFileSync(files.session!, `${SESSION_B},short\n`)
    assert.equal(made.reload()[0]?.outcome, 'rejected')
    assert.deepEqual(made.sessionSecrets(), [SESSION_B, SESSION_A])
    const rejected = lines.find((line) => line.event === 'secrets.rejected')
    assert.match(JSON.stringify(rejected?.problems), /each secret must be at least 32 characters/)
  })

  it('are followed by the Redis sealer: new values sealed with the new first secret, old ones still open', () => {
    const { made, files } = holder({ session: SESSION_A })
    const sealer = createSealer(() => made.sessionSecrets(), 'tsbff:')
    const old = sealer.seal('before', 'key-1')
    writeFileSync(files.session!, `${SESSION_B},${SESSION_A}\n`)
    made.reload()
    const fresh = sealer.seal('after', 'key-2')
    assert.equal(sealer.open(old, 'key-1'), 'before')
    assert.equal(createSealer([SESSION_B], 'tsbff:').open(fresh, 'key-2'), 'after')
    assert.equal(createSealer([SESSION_A], 'tsbff:').open(fresh, 'key-2'), null)
    writeFileSync(files.session!, `${SESSION_B}\n`)
    made.reload()
    assert.equal(sealer.open(old, 'key-1'), null, 'the retired secret opens nothing')
  })
})

describe('the identity HS256 secret', () => {
  it('rotates, and refuses one shorter than 32 bytes', () => {
    const { made, files } = holder({ hs: HS_OLD })
    writeFileSync(files.hs!, 'too-short\n')
    assert.equal(made.reload()[0]?.outcome, 'rejected')
    assert.equal(made.identityHs256Secret(), HS_OLD)
    const next = 'hs256-new-secret-'.padEnd(40, 'n')
    writeFileSync(files.hs!, next)
    assert.equal(made.reload()[0]?.outcome, 'rotated')
    assert.equal(made.identityHs256Secret(), next)
  })
})
