import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runMappingCli } from '../../../src/mapping/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'tsbff-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const good = join(dir, 'good.yaml')
writeFileSync(
  good,
  'default: { groups: [embed_viewers] }\nrules:\n  - when: { claim: roles, includes: analyst }\n    groups: [analysts]\n  - when: { claim: status, equals: suspended }\n    deny: true\n',
)
const bad = join(dir, 'bad.yaml')
writeFileSync(
  bad,
  'default: { groups: [embed_viewers] }\nrules:\n  - when: { claim: roles, contains: analyst }\n',
)

describe('npm run mapping', () => {
  it('check: ok for a valid file', () => {
    const result = runMappingCli(['check', '--file', good], {})
    assert.equal(result.code, 0)
    assert.match(result.out, /ok \(has a default, 2 rules/)
  })

  it('check and explain: exit 1 naming the line of an invalid file', () => {
    for (const args of [
      ['check', '--file', bad],
      ['explain', '--file', bad, '--claims', '{}'],
    ]) {
      const result = runMappingCli(args, {})
      assert.equal(result.code, 1)
      assert.match(result.err, new RegExp(`${bad}:3: rules\\.0\\.when\\.contains: unknown key`))
    }
  })

  it('explain: prints groups, org, level and the matched rules with their lines', () => {
    const result = runMappingCli(
      ['explain', '--file', good, '--claims', '{"sub":"a@acme.com","roles":["analyst"]}'],
      {},
    )
    assert.equal(result.code, 0)
    assert.match(result.out, /username: a@acme\.com/)
    assert.match(result.out, /groups: +analysts, embed_viewers/)
    assert.match(result.out, /rules\[0\] \(line 3\): roles includes "analyst"/)
  })

  it('explain: shows a deny and reads BFF_MAPPING', () => {
    const result = runMappingCli(['explain', '--claims', '{"sub":"x","status":"suspended"}'], {
      BFF_MAPPING: good,
    })
    assert.match(result.out, /DENIED by rules\[1\] \(line 5\)/)
  })

  it('refuses bad arguments with usage and exit 2', () => {
    assert.equal(runMappingCli(['explain', '--file', good, '--claims', '[1]'], {}).code, 2)
    assert.equal(runMappingCli(['frobnicate'], {}).code, 2)
    assert.equal(runMappingCli(['check', '--nope'], {}).code, 2)
  })

  it('runs as a real command and exits non-zero on an invalid file', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/mapping/cli.ts', 'check', '--file', bad],
      { encoding: 'utf8' },
    )
    assert.equal(run.status, 1)
    assert.match(run.stderr, /bad\.yaml:3:/)
    const ok = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/mapping/cli.ts', 'check', '--file', 'config/mapping.yaml'],
      { encoding: 'utf8' },
    )
    assert.equal(ok.status, 0, ok.stderr)
  })
})
