/**
 * docs/SECURITY.md backs each threat with tests, cited as `file` › `it() name`. A cited file that
 * is gone, a test renamed, or an actor left without any test fails here, so the threat model
 * cannot drift from what the suite proves.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { it } from 'node:test'

const doc = readFileSync('docs/SECURITY.md', 'utf8')

/**
 * `` `test/x.test.ts` › `the it() name` ``; the › is U+203A. The shared-state conformance suites
 * (`test/contract/*.contract.ts`) count too: their tests run against memory and Redis.
 */
const CITATION = /`([^`]+\.(?:test|contract)\.ts)` \u203a `([^`]+)`/g

interface Citation {
  file: string
  name: string
}

function citationsIn(text: string): Citation[] {
  return [...text.matchAll(CITATION)].map((match) => ({ file: match[1]!, name: match[2]! }))
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * True when `source` has `it(` (or `test(`) with exactly `name` as its title, in any quotes, or
 * with a template title (`` `… ${kind} …` ``) that `name` is one expansion of — the tests a table
 * drives are cited by the case the doc means.
 */
function hasTest(source: string, name: string): boolean {
  const quoted = ["'", '"', '`'].map((quote) => `${quote}${escapeRegExp(name)}${quote}`)
  if (new RegExp(String.raw`\b(?:it|test)\(\s*(?:${quoted.join('|')})`).test(source)) return true
  return [...source.matchAll(/\b(?:it|test)\(\s*`([^`]*\$\{[^`]*)`/g)].some((match) => {
    const parts = (match[1] ?? '').split(/\$\{[^}]*\}/)
    return new RegExp(`^${parts.map(escapeRegExp).join('.+?')}$`).test(name)
  })
}

/** The `### ` sections under `## Threats by actor`, each with its text. */
function actorSections(): { heading: string; body: string }[] {
  const start = doc.indexOf('\n## Threats by actor\n')
  assert.ok(start >= 0, 'docs/SECURITY.md has "## Threats by actor"')
  const rest = doc.slice(start + 1).split('\n')
  const end = rest.findIndex((line, index) => index > 0 && line.startsWith('## '))
  const part = rest.slice(0, end === -1 ? undefined : end).join('\n')
  return part
    .split(/^### /m)
    .slice(1)
    .map((section) => {
      const newline = section.indexOf('\n')
      return { heading: section.slice(0, newline).trim(), body: section.slice(newline) }
    })
}

it('every cited test exists with that exact name', () => {
  const citations = citationsIn(doc)
  assert.ok(citations.length >= 25, `only ${citations.length} citations`)
  const broken = citations.flatMap(({ file, name }) => {
    if (name.includes('\n')) return [`${file} › ${name}: the name is broken across lines`]
    if (!existsSync(file)) return [`${file} › ${name}: no such file`]
    if (!hasTest(readFileSync(file, 'utf8'), name)) return [`${file} › ${name}: no such test`]
    return []
  })
  assert.deepEqual(broken, [], 'cite each test by its file and its exact it() title')
})

it('every actor has at least one threat backed by a test', () => {
  const sections = actorSections()
  assert.ok(sections.length >= 8, `only ${sections.length} actor sections`)
  const untested = sections
    .filter(({ body }) => citationsIn(body).length === 0)
    .map(({ heading }) => heading)
  assert.deepEqual(untested, [], 'back each actor with at least one cited test')
})
