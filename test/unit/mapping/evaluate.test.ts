import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { evaluateMapping, type Evaluation } from '../../../src/mapping/evaluate.js'
import { loadMappingFile, type LoadedMapping } from '../../../src/mapping/schema.js'

function load(text: string): LoadedMapping {
  const result = loadMappingFile('mapping.yaml', text)
  if ('problems' in result) throw new Error(result.problems.join('\n'))
  return result.loaded
}

const FULL = load(`
default: { groups: [embed_viewers], orgId: 0, accessLevel: FULL, autoCreate: true }
rules:
  - when: { claim: roles, includes: analyst }
    groups: [analysts]
    accessLevel: FULL
  - when: { claim: email, endsWith: "@globex.com" }
    orgId: 1776311864
  - when: { claim: dept, equals: finance }
    groups: [finance, analysts]
  - when: { claim: sub, matches: "^contractor-[0-9]+$" }
    accessLevel: REPORT_BOOK_VIEW
    autoCreate: false
  - when: { claim: status, equals: suspended }
    deny: true
  - when: { claim: realm_access.roles, includes: admin-lite }
    groups: [power_users]
users:
  ceo@acme.com: { groups: [executives], orgId: 7 }
attributes:
  - { claim: region, column: Region, operator: IN }
  - { claim: tier, variable: customer_tier }
`)

const NO_DEFAULT = load(`
rules:
  - when: { claim: roles, includes: analyst }
    groups: [analysts]
users:
  vip@acme.com: { groups: [vips] }
`)

type Expect =
  | { outcome: 'not-mapped' }
  | { outcome: 'denied'; reason: 'rule'; rule: number }
  | {
      groups: string[]
      orgId?: number
      accessLevel?: string
      autoCreate?: boolean
      matched?: number[]
    }

const cases: Array<[string, LoadedMapping, string, Record<string, unknown>, Expect]> = [
  ['default only', FULL, 'u1', { sub: 'u1' }, { groups: ['embed_viewers'], orgId: 0, matched: [] }],
  [
    'includes on array',
    FULL,
    'u1',
    { roles: ['viewer', 'analyst'] },
    { groups: ['analysts', 'embed_viewers'], matched: [0] },
  ],
  [
    'includes on equal string',
    FULL,
    'u1',
    { roles: 'analyst' },
    { groups: ['analysts', 'embed_viewers'] },
  ],
  [
    'includes is not substring',
    FULL,
    'u1',
    { roles: 'analysts-team' },
    { groups: ['embed_viewers'], matched: [] },
  ],
  [
    'endsWith sets org',
    FULL,
    'b',
    { email: 'b@globex.com' },
    { groups: ['embed_viewers'], orgId: 1776311864, matched: [1] },
  ],
  [
    'endsWith is case-sensitive',
    FULL,
    'b',
    { email: 'b@GLOBEX.com' },
    { groups: ['embed_viewers'], orgId: 0 },
  ],
  [
    'equals exact',
    FULL,
    'f',
    { dept: 'finance' },
    { groups: ['analysts', 'embed_viewers', 'finance'] },
  ],
  ['equals not prefix', FULL, 'f', { dept: 'finance-eu' }, { groups: ['embed_viewers'] }],
  [
    'groups de-duplicated',
    FULL,
    'f',
    { dept: 'finance', roles: ['analyst'] },
    { groups: ['analysts', 'embed_viewers', 'finance'], matched: [0, 2] },
  ],
  [
    'matches regex',
    FULL,
    'c',
    { sub: 'contractor-17' },
    { groups: ['embed_viewers'], accessLevel: 'REPORT_BOOK_VIEW', autoCreate: false },
  ],
  [
    'matches anchored by writer',
    FULL,
    'c',
    { sub: 'xcontractor-17' },
    { groups: ['embed_viewers'], accessLevel: 'FULL' },
  ],
  [
    'deny wins',
    FULL,
    's',
    { roles: ['analyst'], status: 'suspended' },
    { outcome: 'denied', reason: 'rule', rule: 4 },
  ],
  ['missing claim matches nothing', FULL, 'x', {}, { groups: ['embed_viewers'], matched: [] }],
  [
    'null claim matches nothing',
    FULL,
    'x',
    { roles: null, status: null },
    { groups: ['embed_viewers'] },
  ],
  [
    'object claim matches nothing',
    FULL,
    'x',
    { dept: { name: 'finance' } },
    { groups: ['embed_viewers'] },
  ],
  ['number claim compared as string', FULL, 'x', { dept: 42 }, { groups: ['embed_viewers'] }],
  [
    'nested claim path',
    FULL,
    'x',
    { realm_access: { roles: ['admin-lite'] } },
    { groups: ['embed_viewers', 'power_users'] },
  ],
  [
    'users entry after rules',
    FULL,
    'ceo@acme.com',
    { email: 'ceo@globex.com' },
    { groups: ['embed_viewers', 'executives'], orgId: 7 },
  ],
  ['users entry is exact', FULL, 'CEO@acme.com', {}, { groups: ['embed_viewers'], orgId: 0 }],
  [
    'no default, nothing matched',
    NO_DEFAULT,
    'nobody',
    { roles: ['viewer'] },
    { outcome: 'not-mapped' },
  ],
  [
    'no default, rule matched',
    NO_DEFAULT,
    'a',
    { roles: ['analyst'] },
    { groups: ['analysts'], orgId: 0, accessLevel: 'FULL', autoCreate: true },
  ],
  ['no default, user entry', NO_DEFAULT, 'vip@acme.com', {}, { groups: ['vips'] }],
  [
    '__proto__ username is not a users entry',
    NO_DEFAULT,
    '__proto__',
    {},
    { outcome: 'not-mapped' },
  ],
  [
    'constructor claim path',
    NO_DEFAULT,
    'x',
    { roles: { constructor: 'analyst' } },
    { outcome: 'not-mapped' },
  ],
]

function check(result: Evaluation, expected: Expect): void {
  if ('outcome' in expected) {
    assert.deepEqual(result, expected)
    return
  }
  assert.equal(result.outcome, 'mapped')
  if (result.outcome !== 'mapped') return
  const { access } = result
  assert.deepEqual(access.groups, expected.groups)
  if (expected.orgId !== undefined) assert.equal(access.orgId, expected.orgId)
  if (expected.accessLevel !== undefined) assert.equal(access.accessLevel, expected.accessLevel)
  if (expected.autoCreate !== undefined) assert.equal(access.autoCreate, expected.autoCreate)
  if (expected.matched !== undefined) assert.deepEqual(access.matchedRules, expected.matched)
}

describe('evaluateMapping', () => {
  for (const [name, mapping, username, claims, expected] of cases) {
    it(name, () => check(evaluateMapping(mapping, username, claims), expected))
  }

  it('turns attribute claims into filter rules and variable values', () => {
    const result = evaluateMapping(FULL, 'u', { region: ['EMEA', 'APAC'], tier: 'gold' })
    assert.equal(result.outcome, 'mapped')
    if (result.outcome !== 'mapped') return
    assert.deepEqual(result.access.filterRules, [
      { column_name: 'Region', operator: 'IN', values: ['EMEA', 'APAC'] },
    ])
    assert.deepEqual(result.access.variableValues, [{ name: 'customer_tier', values: ['gold'] }])
  })

  it('mints without filters when no attribute claim is present (no claim, no filter)', () => {
    const result = evaluateMapping(FULL, 'u', { sub: 'u' })
    assert.equal(result.outcome, 'mapped')
    if (result.outcome !== 'mapped') return
    assert.deepEqual(result.access.filterRules, [])
    assert.deepEqual(result.access.variableValues, [])
  })

  it('keeps numbers and booleans as typed values, and every item of a list', () => {
    const result = evaluateMapping(FULL, 'u', { region: [1, 'EMEA', true], tier: 3 })
    assert.ok(result.outcome === 'mapped')
    assert.deepEqual(result.access.filterRules[0]?.values, [1, 'EMEA', true])
    assert.deepEqual(result.access.variableValues[0]?.values, [3])
  })

  // Issue 8 §3: a present row-filter claim that cannot be used refuses the user; dropping it
  // would mint with fewer filters, i.e. more rows.
  const unusable: Array<[string, Record<string, unknown>, number, string, RegExp]> = [
    ['an object', { region: { nested: true } }, 0, 'region', /is an object/],
    ['null', { region: null }, 0, 'region', /is null/],
    ['an empty list', { tier: [] }, 1, 'tier', /is an empty list/],
    ['a list of objects', { region: [{ a: 1 }] }, 0, 'region', /unusable item at \[0\]/],
    ['a mixed list', { region: ['EMEA', { a: 1 }] }, 0, 'region', /unusable item at \[1\]/],
    ['a list with null', { region: ['EMEA', null] }, 0, 'region', /unusable item at \[1\]/],
    ['a nested list', { region: [['EMEA']] }, 0, 'region', /unusable item at \[0\]/],
    ['a blank string', { tier: '  ' }, 1, 'tier', /is blank/],
    ['an empty string', { tier: '' }, 1, 'tier', /is blank/],
    ['a list with a blank item', { region: ['EMEA', ''] }, 0, 'region', /unusable item at \[1\]/],
    ['one usable, one not', { region: 'EMEA', tier: {} }, 1, 'tier', /is an object/],
  ]
  for (const [name, claims, attribute, claim, problem] of unusable) {
    it(`denies a user whose row-filter claim is ${name}`, () => {
      const result = evaluateMapping(FULL, 'u', claims)
      assert.equal(result.outcome, 'denied')
      if (result.outcome !== 'denied' || result.reason !== 'attribute') {
        assert.fail(`expected an attribute denial, got ${JSON.stringify(result)}`)
      }
      assert.equal(result.attribute, attribute)
      assert.equal(result.claim, claim)
      assert.match(result.problem, problem)
      assert.doesNotMatch(result.problem, /EMEA/, 'the reason never carries the claim value')
    })
  }

  it('an unmapped user stays NOT_MAPPED whatever their attribute claims', () => {
    assert.deepEqual(evaluateMapping(NO_DEFAULT, 'nobody', { region: {} }), {
      outcome: 'not-mapped',
    })
  })

  it('returns plain data that survives a JSON round trip (a caller may memoise it)', () => {
    for (const claims of [{ region: ['EMEA'] }, { status: 'suspended' }, { region: [] }]) {
      const result = evaluateMapping(FULL, 'u', claims)
      assert.deepEqual(JSON.parse(JSON.stringify(result)), result)
    }
  })

  it('gives the same digest for the same result and a new one when anything minted changes', () => {
    const digest = (username: string, claims: Record<string, unknown>): string => {
      const result = evaluateMapping(FULL, username, claims)
      assert.equal(result.outcome, 'mapped')
      return result.outcome === 'mapped' ? result.access.digest : ''
    }
    assert.equal(
      digest('a', { roles: ['analyst'] }),
      digest('b', { roles: 'analyst', unrelated: 1 }),
    )
    assert.notEqual(digest('a', { roles: ['analyst'] }), digest('a', {}))
    assert.notEqual(digest('a', { region: 'EMEA' }), digest('a', { region: 'APAC' }))
    assert.notEqual(digest('a', {}), digest('a', { email: 'x@globex.com' }))
  })

  it('tests over-long claims too: length is no way past a rule', () => {
    const long = `contractor-${'1'.repeat(20_000)}`
    const result = evaluateMapping(FULL, 'c', { sub: long })
    assert.equal(result.outcome === 'mapped' && result.access.accessLevel, 'REPORT_BOOK_VIEW')
    const denyLong = load(
      'default: {}\nrules:\n  - when: { claim: email, endsWith: "@evil.com" }\n    deny: true\n',
    )
    const email = `${'x'.repeat(20_000)}@evil.com`
    assert.equal(evaluateMapping(denyLong, 'x', { email }).outcome, 'denied')
  })
})
