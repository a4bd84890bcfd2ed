/**
 * `matches` runs on RE2 (issue 8 §1): patterns with nested quantifiers stay linear on crafted
 * claims, and what RE2 cannot run is refused with its reason instead of meaning something else.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { evaluateMapping } from '../../../src/mapping/evaluate.js'
import { compilePattern } from '../../../src/mapping/pattern.js'
import { loadMappingFile } from '../../../src/mapping/schema.js'

function test(source: string, text: string): boolean {
  const result = compilePattern(source)
  if ('problem' in result) throw new Error(result.problem)
  return result.pattern.test(text)
}

function problem(source: string): string {
  const result = compilePattern(source)
  assert.ok('problem' in result, `${source} should be refused`)
  return result.problem
}

describe('compilePattern', () => {
  const cases: Array<[string, string, boolean]> = [
    ['^contractor-[0-9]+$', 'contractor-17', true],
    ['^contractor-[0-9]+$', 'xcontractor-17', false],
    ['contractor', 'a contractor here', true], // unanchored unless the writer anchors it
    ['^\\p{L}+$', 'Zoë', true],
    ['^.$', '😀', true], // a code point, not a UTF-16 unit
    ['^\\u00e9$', 'é', true], // JavaScript escapes keep working
    ['^\\u{1F600}$', '😀', true],
    ['^[\\u00e0-\\u00ff]+$', 'éè', true],
    ['(?i)^admin$', 'ADMIN', true],
    ['^a$', 'a\n', false], // $ is the end of the text, as in RegExp without the m flag
    ['^(?<team>[a-z]+)-lead$', 'ops-lead', true], // named groups
    ['^[(?=]$', '(', true], // inside a class, "(?=" is three literal characters
    ['^\\(\\?=x$', '(?=x', true], // escaped, too
    ['^[]a]$', ']', true], // a leading ] is a class member
  ]
  for (const [source, text, expected] of cases) {
    it(`${source} on ${JSON.stringify(text)} → ${expected}`, () =>
      assert.equal(test(source, text), expected))
  }

  const refused: Array<[string, RegExp]> = [
    ['(a)\\1', /backreferences \(\\1\) are not supported by RE2/],
    ['(?<n>a)\\k<n>', /named backreferences/],
    ['foo(?=bar)', /lookahead \(\(\?=…\)\)/],
    ['foo(?!bar)', /lookahead \(\(\?!…\)\)/],
    ['(?<=foo)bar', /lookbehind \(\(\?<=…\)\)/],
    ['(?<!foo)bar', /lookbehind \(\(\?<!…\)\)/],
    ['([', /^missing closing \]: `\[`$/],
    ['a{1001}', /invalid repeat count/],
    ['a++', /invalid nested repetition operator/],
    ['x'.repeat(5000), /longer than 4096 characters/],
  ]
  for (const [source, reason] of refused) {
    it(`refuses ${source.slice(0, 30)} saying why`, () => assert.match(problem(source), reason))
  }

  it('says each reason once (no "invalid regular expression: Invalid regular expression")', () => {
    for (const source of ['([', '(a)\\1', 'a{2,1}']) {
      assert.doesNotMatch(problem(source), /regexp|regular expression/i)
    }
  })
})

describe('nested quantifiers on crafted claims (would hang with RegExp)', () => {
  // Each of these backtracks exponentially in a RegExp engine on "aaaa…a!"; a backtracking
  // engine needs longer than the universe's age for 5,000 characters. RE2 answers at once.
  const EVIL: Array<[string, string]> = [
    ['^(a+)+$', 'aaaa'],
    ['^(a|a)*$', 'aaaa'],
    ['^(a|aa)+$', 'aaaa'],
    ['^(a*)*b$', 'aaab'],
    ['^(.*a){20}$', 'a'.repeat(20)],
    ['^(\\w+\\s?)*$', 'aa aa'],
  ]
  const claim = `${'a'.repeat(5000)}!`

  for (const [source, positive] of EVIL) {
    it(`${source} refuses a 5,001-character crafted claim and still matches what it should`, () => {
      assert.equal(test(source, claim), false)
      assert.equal(test(source, positive), true)
    })
  }

  it('through evaluateMapping: every request stays answerable, and the deny still applies', () => {
    const result = loadMappingFile(
      'm.yaml',
      `default: { groups: [viewers] }
rules:
${EVIL.map(([source]) => `  - when: { claim: sub, matches: ${JSON.stringify(source)} }\n    groups: [never]`).join('\n')}
  - when: { claim: sub, matches: "^(a+)+!$" }
    deny: true
`,
    )
    assert.ok('loaded' in result, JSON.stringify(result))
    for (let i = 0; i < 20; i++) {
      const evaluation = evaluateMapping(result.loaded, 'u', { sub: `${'a'.repeat(4000 + i)}!` })
      assert.equal(evaluation.outcome, 'denied')
    }
    const mapped = evaluateMapping(result.loaded, 'u', { sub: `${'a'.repeat(16_000)}?` })
    assert.ok(mapped.outcome === 'mapped')
    assert.deepEqual(mapped.access.groups, ['viewers'])
  })
})
