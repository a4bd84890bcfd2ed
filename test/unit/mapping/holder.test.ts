import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { createMappingHolder } from '../../../src/mapping/holder.js'
import { createLogger } from '../../../src/observability/logger.js'

const dir = mkdtempSync(join(tmpdir(), 'tsbff-holder-'))
after(() => rmSync(dir, { recursive: true, force: true }))

it('logs the warnings of a mapping at warn, at start and at every reload that takes it', () => {
  const file = join(dir, 'mapping.yaml')
  writeFileSync(file, 'default: { groups: [viewers] }\n')
  const lines: Array<Record<string, unknown>> = []
  const log = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  })
  const holder = createMappingHolder(file, log)
  assert.equal(lines.filter((l) => l.event === 'mapping.warnings').length, 0, 'a clean file')

  writeFileSync(
    file,
    'default: { groups: [Viewers, viewers] }\nrules:\n  - when: { claim: a, equals: b }\n',
  )
  assert.equal(holder.reload(), true, 'warnings never refuse a file')
  const [warned] = lines.filter((l) => l.event === 'mapping.warnings')
  assert.equal(warned?.level, 'warn')
  const warnings = warned?.warnings as string[]
  assert.equal(warnings.length, 2)
  assert.match(warnings[0] ?? '', /mapping\.yaml:1: groups "Viewers" .* differ only by case/)
  assert.match(warnings[1] ?? '', /mapping\.yaml:3: rules\.0: sets nothing/)
})
