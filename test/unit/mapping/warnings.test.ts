/**
 * `mapping check` warnings (issue 9 §1, issue 8 §3): valid files that probably do not mean what
 * they say. Warnings never refuse a file.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { evaluateMapping } from '../../../src/mapping/evaluate.js'
import { nearMisses } from '../../../src/mapping/near-miss.js'
import { loadMappingFile, type LoadedMapping } from '../../../src/mapping/schema.js'

function load(text: string, usernameCase: 'preserve' | 'lower' = 'preserve'): LoadedMapping {
  const result = loadMappingFile('m.yaml', text, { usernameCase })
  if ('problems' in result) throw new Error(result.problems.join('\n'))
  return result.loaded
}

const warningsOf = (text: string, usernameCase?: 'preserve' | 'lower'): readonly string[] =>
  load(text, usernameCase).warnings

function has(warnings: readonly string[], pattern: RegExp): void {
  assert.ok(
    warnings.some((w) => pattern.test(w)),
    `expected ${String(pattern)} in ${JSON.stringify(warnings, null, 2)}`,
  )
}

describe('mapping warnings', () => {
  it('none for a clean file', () => {
    assert.deepEqual(
      warningsOf(
        'default: { groups: [viewers] }\nrules:\n  - when: { claim: roles, includes: analyst }\n    groups: [analysts]\nusers:\n  ceo@acme.com: { groups: [executives] }\n',
      ),
      [],
    )
  })

  it('group names that differ only by case or whitespace, across default, rules and users', () => {
    const warnings = warningsOf(`default: { groups: [Analysts] }
rules:
  - when: { claim: roles, includes: analyst }
    groups: [analysts, viewers]
users:
  bob: { groups: ["analysts ", viewers] }
`)
    has(
      warnings,
      /^m\.yaml:1: groups "Analysts" \(default\.groups\.0\), "analysts" \(rules\.0\.groups\.0\), "analysts " \(users\.bob\.groups\.0\) differ only by case or surrounding whitespace/,
    )
    has(warnings, /^m\.yaml:6: users\.bob\.groups\.0: group "analysts " has surrounding whitespace/)
    assert.equal(warnings.filter((w) => /viewers/.test(w)).length, 0, 'same spelling twice is fine')
  })

  it('rules with a when and no effect', () => {
    const withDefault = warningsOf(
      'default: { groups: [v] }\nrules:\n  - when: { claim: a, equals: b }\n  - when: { claim: a, equals: c }\n    groups: []\n',
    )
    has(
      withDefault,
      /^m\.yaml:3: rules\.0: sets nothing \(no groups, orgId, accessLevel, autoCreate or deny\)$/,
    )
    has(withDefault, /^m\.yaml:4: rules\.1: sets nothing/)
    const noDefault = warningsOf('rules:\n  - when: { claim: a, equals: b }\n')
    has(noDefault, /rules\.0: sets nothing .*without a default it only admits matching users/)
    for (const effect of ['orgId: 3', 'accessLevel: FULL', 'autoCreate: false', 'deny: true']) {
      const warnings = warningsOf(`rules:\n  - when: { claim: a, equals: "1" }\n    ${effect}\n`)
      assert.ok(!warnings.some((w) => /sets nothing/.test(w)), `${effect}: ${warnings.join()}`)
    }
  })

  it('deny rules: says which shapes, cases and spaces slip past each operator', () => {
    const warnings = warningsOf(`rules:
  - when: { claim: status, equals: suspended }
    deny: true
  - when: { claim: roles, includes: blocked }
    deny: true
  - when: { claim: email, endsWith: "@evil.com" }
    deny: true
  - when: { claim: sub, matches: "^bad-" }
    deny: true
  - when: { claim: sub, matches: "(?i)^bad-" }
    deny: true
  - when: { claim: level, equals: 0 }
    deny: true
`)
    has(
      warnings,
      /^m\.yaml:2: rules\.0: deny status equals "suspended" is not matched by a list \["suspended"\] \(only includes looks into lists\), another case "SUSPENDED", surrounding whitespace "suspended "/,
    )
    const includes = warnings.find((w) => w.includes('rules.1: deny'))
    assert.ok(includes)
    assert.doesNotMatch(includes, /a list/, 'includes already looks into lists')
    assert.match(includes, /another case "BLOCKED", surrounding whitespace "blocked "/)
    has(
      warnings,
      /rules\.2: deny email endsWith .* a list .* another case "…@EVIL\.COM", trailing whitespace "…@evil\.com "/,
    )
    has(
      warnings,
      /rules\.3: deny sub matches "\^bad-" is not matched by a list .*, another case \(add \(\?i\)\)/,
    )
    const insensitive = warnings.find((w) => w.includes('rules.4: deny'))
    assert.ok(insensitive)
    assert.doesNotMatch(insensitive, /another case/)
    const digits = warnings.find((w) => w.includes('rules.5: deny'))
    assert.ok(digits)
    assert.doesNotMatch(digits, /another case/, '"0" has no case')
  })

  it('a deny rule with other settings: they never apply', () => {
    has(
      warningsOf('rules:\n  - when: { claim: a, includes: b }\n    deny: true\n    groups: [g]\n'),
      /rules\.0: a deny rule refuses the user; its other settings never apply/,
    )
  })

  it('users keys no username can equal: not NFC, invisible characters, capitals under lower', () => {
    const text =
      'users:\n  "zoe\\u0301": {}\n  "bob\\u200b": {}\n  CEO@acme.com: {}\n  ok@acme.com: {}\n'
    const preserve = warningsOf(text)
    has(preserve, /^m\.yaml:2: users\["zoe\\u\{301\}"\]: never matches: .*NFC.*write it as "zoé"/)
    has(
      preserve,
      /^m\.yaml:3: users\["bob\\u\{200b\}"\]: never matches: the key contains an invisible.*U\+200B/,
    )
    assert.ok(!preserve.some((w) => w.includes('CEO')), 'capitals are fine while case is preserved')
    const lower = warningsOf(text, 'lower')
    has(
      lower,
      /^m\.yaml:4: users\["CEO@acme\.com"\]: never matches: .*lower case; write it as "ceo@acme\.com"/,
    )
    assert.ok(!lower.some((w) => w.includes('ok@acme.com')))
  })

  it('lists warnings in file order', () => {
    const warnings = warningsOf(`rules:
  - when: { claim: a, equals: b }
users:
  "x\\u200b": {}
default: { groups: [G, g] }
`)
    const lines = warnings.map((w) => Number(/^m\.yaml:(\d+):/.exec(w)?.[1]))
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    )
    assert.equal(warnings.length, 3, JSON.stringify(warnings))
  })
})

describe('near misses (explain)', () => {
  const MAPPING = load(`default: { groups: [v] }
rules:
  - when: { claim: status, equals: suspended }
    deny: true
  - when: { claim: roles, includes: analyst }
    groups: [analysts]
  - when: { claim: email, endsWith: "@globex.com" }
    orgId: 5
  - when: { claim: sub, matches: "^contractor-[0-9]+$" }
    accessLevel: REPORT_BOOK_VIEW
`)
  const cases: Array<[string, Record<string, unknown>, number, RegExp]> = [
    [
      'equals vs a list',
      { status: ['suspended'] },
      0,
      /the claim is \["suspended"\] \(a list; only includes looks into lists\)/,
    ],
    [
      'equals vs case',
      { status: 'Suspended' },
      0,
      /the claim is "Suspended": it differs only by case or surrounding whitespace/,
    ],
    [
      'equals vs whitespace',
      { status: 'suspended ' },
      0,
      /differs only by case or surrounding whitespace/,
    ],
    [
      'equals vs a list in another case',
      { status: ['SUSPENDED'] },
      0,
      /a list, and it differs by case/,
    ],
    [
      'includes vs case in a list',
      { roles: ['Analyst'] },
      1,
      /the claim is \["Analyst"\]: it differs only by case/,
    ],
    ['endsWith vs case', { email: 'a@GLOBEX.com' }, 2, /differs only by case/],
    ['matches vs case', { sub: 'Contractor-1' }, 3, /differs only by case/],
    [
      'matches vs whitespace',
      { sub: ' contractor-1 ' },
      3,
      /differs only by case or surrounding whitespace/,
    ],
    ['matches vs a list', { sub: ['contractor-1'] }, 3, /a list/],
    [
      'a claim name in another case',
      { Status: 'suspended' },
      0,
      /there is no "status" claim, but there is "Status"/,
    ],
    [
      'an object claim',
      { status: { value: 'suspended' } },
      0,
      /the claim is an object .*dotted claim path/,
    ],
  ]
  for (const [name, claims, rule, why] of cases) {
    it(`${name}: rules[${rule}]`, () => {
      const found = nearMisses(MAPPING, claims)
      const miss = found.find((m) => m.rule === rule)
      assert.ok(miss, JSON.stringify(found))
      assert.match(miss.why, why)
      assert.notEqual(evaluateMapping(MAPPING, 'u', claims).outcome, 'denied')
    })
  }

  it('nothing for claims that are simply different, or that match', () => {
    assert.deepEqual(nearMisses(MAPPING, { status: 'active', roles: ['viewer'], sub: 'bob' }), [])
    assert.deepEqual(nearMisses(MAPPING, { status: 'suspended' }), [])
  })
})
