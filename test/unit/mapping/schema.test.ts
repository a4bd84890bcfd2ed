import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadMappingFile } from '../../../src/mapping/schema.js'

function problems(text: string): string[] {
  const result = loadMappingFile('m.yaml', text)
  return 'problems' in result ? result.problems : []
}

describe('mapping file validation', () => {
  const invalid: Array<[string, string, RegExp]> = [
    [
      'unknown top-level key, with a hint',
      'defualt: {groups: [a]}\n',
      /^m\.yaml:1: defualt: unknown key \(did you mean "default"\?\)/,
    ],
    [
      'unknown rule key',
      'rules:\n  - when: {claim: a, equals: b}\n    group: [x]\n',
      /m\.yaml:3: rules\.0\.group: unknown key \(did you mean "groups"\?\)/,
    ],
    [
      'no operator',
      'rules:\n  - when: {claim: a}\n    groups: [x]\n',
      /m\.yaml:2: rules\.0\.when: needs exactly one of/,
    ],
    [
      'two operators',
      'rules:\n  - when: {claim: a, equals: b, endsWith: c}\n',
      /needs exactly one of/,
    ],
    [
      'bad regex',
      'rules:\n  - when: {claim: a, matches: "(["}\n',
      /^m\.yaml:2: rules\.0\.when\.matches: pattern "\(\[" refused: missing closing \]: `\[`$/,
    ],
    [
      'a backreference (RE2 cannot run it in linear time)',
      'rules:\n  - when: {claim: a, equals: x}\n    groups: [g]\n  - when: {claim: a, matches: "^(a)\\\\1$"}\n',
      /^m\.yaml:4: rules\.1\.when\.matches: pattern "\^\(a\)\\\\1\$" refused: backreferences/,
    ],
    [
      'a lookahead',
      'rules:\n  - when: {claim: a, matches: "^(?!admin)"}\n',
      /m\.yaml:2: rules\.0\.when\.matches: .* lookahead .* not supported by RE2/,
    ],
    [
      'a lookbehind',
      'rules:\n  - when: {claim: a, matches: "(?<=x)y"}\n',
      /rules\.0\.when\.matches: .* lookbehind .* not supported by RE2/,
    ],
    ['bad access level', 'default: {accessLevel: ADMIN}\n', /m\.yaml:1: default\.accessLevel/],
    ['negative org', 'default: {orgId: -1}\n', /default\.orgId/],
    ['string org', 'default: {orgId: "1"}\n', /default\.orgId/],
    ['groups not a list', 'default: {groups: analysts}\n', /default\.groups/],
    ['deny false', 'rules:\n  - when: {claim: a, equals: b}\n    deny: false\n', /rules\.0\.deny/],
    [
      'attribute needs column or variable',
      'attributes:\n  - {claim: region}\n',
      /attributes\.0: needs exactly one of column or variable/,
    ],
    [
      'attribute operator with variable',
      'attributes:\n  - {claim: t, variable: v, operator: IN}\n',
      /operator applies to a column/,
    ],
    [
      'attribute bad operator',
      'attributes:\n  - {claim: r, column: R, operator: SOUNDS_LIKE}\n',
      /attributes\.0\.operator/,
    ],
    [
      'invalid YAML names the line',
      'default:\n  groups: [a\nrules: []\n',
      /^m\.yaml:\d+: invalid YAML/,
    ],
    ['duplicate keys', 'default: {}\ndefault: {}\n', /invalid YAML/],
    ['a list at top level', '- a\n- b\n', /\(top level\)/],
  ]
  for (const [name, text, pattern] of invalid) {
    it(`refuses: ${name}`, () => {
      const found = problems(text)
      assert.ok(
        found.some((p) => pattern.test(p)),
        `expected ${String(pattern)} in ${JSON.stringify(found)}`,
      )
    })
  }

  it('reports every problem at once', () => {
    const found = problems('default: {orgId: x}\nrules:\n  - when: {claim: a}\nextra: 1\n')
    assert.equal(found.length, 3, JSON.stringify(found))
  })

  it("says a regex problem once, not in two libraries' words", () => {
    const found = problems('rules:\n  - when: {claim: a, matches: "a{2,1}"}\n').join('\n')
    assert.equal(
      found,
      'm.yaml:2: rules.0.when.matches: pattern "a{2,1}" refused: invalid repeat count: `{2,1}`',
    )
  })

  it('accepts the shipped mapping and an empty file', () => {
    assert.deepEqual(problems(''), [])
    const shipped = loadMappingFile('config/mapping.yaml')
    assert.ok('loaded' in shipped, JSON.stringify(shipped))
  })
})
