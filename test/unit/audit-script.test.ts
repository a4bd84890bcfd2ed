/**
 * scripts/audit.mjs (the CI audit step) run against a stand-in `npm` on PATH that prints what a
 * registry would answer: advisories fail it, a clean report passes, an endpoint that refuses is
 * reported as not audited.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'

const dir = mkdtempSync(join(tmpdir(), 'tsbff-audit-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function auditWith(report: unknown): { status: number | null; output: string } {
  const bin = mkdtempSync(join(dir, 'bin-'))
  writeFileSync(join(bin, 'report.json'), JSON.stringify(report))
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\ncat "${join(bin, 'report.json')}"\n`)
  chmodSync(join(bin, 'npm'), 0o755)
  const run = spawnSync(process.execPath, ['scripts/audit.mjs'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
  })
  return { status: run.status, output: run.stdout + run.stderr }
}

const counts = (high: number, critical: number) => ({
  metadata: { vulnerabilities: { info: 0, low: 2, moderate: 1, high, critical, total: 3 + high } },
})

it('fails on a high or a critical advisory', () => {
  assert.equal(auditWith(counts(1, 0)).status, 1)
  assert.equal(auditWith(counts(0, 1)).status, 1)
})

it('passes a report with only low and moderate advisories, printing the counts', () => {
  const run = auditWith(counts(0, 0))
  assert.equal(run.status, 0)
  assert.match(run.output, /low 2, moderate 1, high 0, critical 0/)
})

it('says NOT AUDITED when the registry refuses the audit endpoint', () => {
  const run = auditWith({
    message: '405 Method Not Allowed - POST …/advisories/bulk',
    statusCode: 405,
  })
  assert.equal(run.status, 0)
  assert.match(run.output, /NOT AUDITED .* 405/)
})

it('fails when npm prints no report at all', () => {
  assert.equal(auditWith('').status, 1)
})
