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
    assert.equal(runMappingCli(['check', 'extra'], {}).code, 2)
    assert.equal(runMappingCli(['check', '--username-case', 'upper'], {}).code, 2)
  })

  it('--help and -h print usage with the exit codes on stdout and exit 0', () => {
    for (const args of [['--help'], ['-h'], ['check', '--help'], ['explain', '-h']]) {
      const result = runMappingCli(args, {})
      assert.equal(result.code, 0, args.join(' '))
      assert.match(result.out, /usage:/)
      assert.match(
        result.out,
        /exit codes: 0 ok .*1 invalid file.*\n.*2 bad arguments, 3 check --strict/,
      )
      assert.equal(result.err, '')
    }
  })

  it('check: warnings go to stderr, marked, and do not fail; --strict makes them exit 3', () => {
    const result = runMappingCli(['check', '--file', good], {})
    assert.equal(result.code, 0)
    assert.match(result.out, /ok \(.*, 1 warning on stderr\)/)
    assert.match(result.err, /^warning: .*good\.yaml:5: rules\.1: deny status equals "suspended"/m)
    const strict = runMappingCli(['check', '--file', good, '--strict'], {})
    assert.equal(strict.code, 3)
    const clean = join(dir, 'clean.yaml')
    writeFileSync(clean, 'default: { groups: [embed_viewers] }\n')
    assert.deepEqual(runMappingCli(['check', '--file', clean, '--strict'], {}), {
      code: 0,
      out: `${clean}: ok (has a default, 0 rules, 0 user entries, 0 attributes)\n`,
      err: '',
    })
  })

  it('check --username-case lower: warns on users keys with capitals', () => {
    const file = join(dir, 'caps.yaml')
    writeFileSync(file, 'users:\n  CEO@acme.com: { groups: [executives] }\n')
    assert.equal(runMappingCli(['check', '--file', file], {}).err, '')
    const lower = runMappingCli(['check', '--file', file, '--username-case', 'lower'], {})
    assert.match(lower.err, /caps\.yaml:2: users\["CEO@acme\.com"\]: never matches/)
  })

  it('check: names the rule, its line and why for a pattern RE2 cannot run', () => {
    const file = join(dir, 'regex.yaml')
    writeFileSync(
      file,
      'rules:\n  - when: { claim: sub, matches: "^(a)\\\\1$" }\n    groups: [g]\n',
    )
    const result = runMappingCli(['check', '--file', file], {})
    assert.equal(result.code, 1)
    assert.equal(
      result.err,
      `${file}:2: rules.0.when.matches: pattern "^(a)\\\\1$" refused: backreferences (\\1) are not supported by RE2\n`,
    )
  })

  it('explain: prints near misses with the reason', () => {
    const result = runMappingCli(
      [
        'explain',
        '--file',
        good,
        '--claims',
        '{"sub":"x","status":["suspended"],"roles":["Analyst"]}',
      ],
      {},
    )
    assert.equal(result.code, 0)
    assert.match(result.out, /result: mapped/)
    assert.ok(
      result.out.endsWith(
        [
          'near misses:',
          '  rules[0] (line 3): roles includes "analyst": no match — the claim is ["Analyst"]: it differs only by case or surrounding whitespace',
          '  rules[1] (line 5): status equals "suspended": no match — the claim is ["suspended"] (a list; only includes looks into lists)',
          '',
        ].join('\n'),
      ),
      result.out,
    )
  })

  it('explain: a row-filter claim that cannot be used is DENIED, naming the attribute', () => {
    const file = join(dir, 'attrs.yaml')
    writeFileSync(file, 'default: {}\nattributes:\n  - { claim: region, column: Region }\n')
    const denied = runMappingCli(
      ['explain', '--file', file, '--claims', '{"sub":"x","region":[]}'],
      {},
    )
    assert.match(
      denied.out,
      /result: DENIED: attributes\[0\] \(region → column Region\): the claim is an empty list/,
    )
    const ok = runMappingCli(
      ['explain', '--file', file, '--claims', '{"sub":"x","region":"EU"}'],
      {},
    )
    assert.match(ok.out, /minted with: auth\/token\/custom/)
  })

  it('explain: shows the username the BFF would use, or that it would refuse it', () => {
    const lower = runMappingCli(
      [
        'explain',
        '--file',
        good,
        '--username-case',
        'lower',
        '--claims',
        '{"sub":"Zoe\u0301@Acme.com"}',
      ],
      {},
    )
    assert.match(lower.out, /^username: zoé@acme\.com \(from "Zoe\\u\{301\}@Acme\.com"\)$/m)
    const refused = runMappingCli(['explain', '--file', good, '--claims', '{"sub":"a\u200bb"}'], {})
    assert.match(refused.out, /username: "a\\u\{200b\}b"\nresult: INVALID_TOKEN .*U\+200B.* → 401/)
    const missing = runMappingCli(['explain', '--file', good, '--claims', '{"email":"a@b.c"}'], {})
    assert.match(missing.out, /INVALID_TOKEN \(the "sub" claim is missing or not a string\)/)
  })

  it('runs as a real command and exits non-zero on an invalid file', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/mapping/cli.ts', 'check', '--file', bad],
      { encoding: 'utf8' },
    )
    assert.equal(run.status, 1)
    assert.match(run.stderr, /bad\.yaml:3:/)
    const help = spawnSync(process.execPath, ['--import', 'tsx', 'src/mapping/cli.ts', '--help'], {
      encoding: 'utf8',
    })
    assert.equal(help.status, 0)
    assert.match(help.stdout, /usage:/)
    const ok = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/mapping/cli.ts', 'check', '--file', 'config/mapping.yaml'],
      { encoding: 'utf8' },
    )
    assert.equal(ok.status, 0, ok.stderr)
  })
})
