/**
 * docs/ARCHITECTURE.md names every file of src/ by its role, and only files that exist: a new
 * module without a line there, or a line for a removed one, fails here.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'node:test'

const doc = readFileSync('docs/ARCHITECTURE.md', 'utf8')

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}

it('names every file of src/ in docs/ARCHITECTURE.md', () => {
  const missing = filesUnder('src').filter((file) => !doc.includes(`\`${file}\``))
  assert.deepEqual(missing, [], 'add a line for each to docs/ARCHITECTURE.md')
})

it('names no file that does not exist', () => {
  const named = [...doc.matchAll(/`(src\/[^`\s]+\.(?:ts|html|css))`/g)].map((match) => match[1]!)
  assert.ok(named.length > 50)
  assert.deepEqual(
    named.filter((file) => !existsSync(file)),
    [],
  )
})
