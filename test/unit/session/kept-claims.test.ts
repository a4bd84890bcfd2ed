/**
 * What a session keeps of an app JWT: only what the identity claims and the mapping read, read
 * the way the mapping reads it (a key first, else a dotted path), so evaluating the mapping on
 * the kept claims gives what it gives on the whole JWT.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readClaim } from '../../../src/mapping/evaluate.js'
import { loadMappingFile, type LoadedMapping } from '../../../src/mapping/schema.js'
import { claimsReadBy, createClaimKeeper, pickClaims } from '../../../src/session/kept-claims.js'

const IDENTITY = { usernameClaim: 'sub', emailClaim: 'email', displayNameClaim: 'name' }

function mappingOf(source: string): LoadedMapping {
  const result = loadMappingFile('mapping.yaml', source)
  if ('problems' in result) throw new Error(result.problems.join('\n'))
  return result.loaded
}

const MAPPING = mappingOf(`
default: { groups: [viewers] }
rules:
  - when: { claim: realm_access.roles, includes: analyst }
    groups: [analysts]
  - when: { claim: status, equals: suspended }
    deny: true
attributes:
  - { claim: region, column: Region }
`)

/** JSON round trip: what a session store gives back. */
const stored = (value: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(value)) as Record<string, unknown>

describe('claimsReadBy', () => {
  it('lists every rule claim and every attribute claim', () => {
    assert.deepEqual(claimsReadBy(MAPPING), ['realm_access.roles', 'status', 'region'])
  })
})

describe('pickClaims', () => {
  const cases: Array<[string, Record<string, unknown>, string[], Record<string, unknown>]> = [
    ['keeps only named keys', { a: 1, b: 2, c: 3 }, ['a', 'c'], { a: 1, c: 3 }],
    ['an absent name keeps nothing', { a: 1 }, ['zz', 'zz.y'], {}],
    [
      'a dotted path keeps only its branch',
      { realm: { roles: ['x'], secret: 's' }, other: 1 },
      ['realm.roles'],
      { realm: { roles: ['x'] } },
    ],
    [
      'a key named with a dot wins over the path, as in the mapping',
      { 'a.b': 'key', a: { b: 'path' } },
      ['a.b'],
      { 'a.b': 'key' },
    ],
    [
      'a whole key covers a path into it, in either order',
      { a: { b: 1, c: 2 } },
      ['a.b', 'a'],
      { a: { b: 1, c: 2 } },
    ],
    [
      'a shorter path covers a longer one',
      { a: { b: { c: 1, d: 2 } } },
      ['a.b.c', 'a.b'],
      { a: { b: { c: 1, d: 2 } } },
    ],
    ['paths into arrays', { roles: ['x', 'y'] }, ['roles.1'], { roles: { 1: 'y' } }],
  ]
  for (const [name, claims, names, expected] of cases) {
    it(name, () => {
      const picked = pickClaims(claims, names)
      assert.deepEqual(stored(picked), expected)
      for (const claim of names) {
        // What the mapping reads is the same on the kept claims as on the whole JWT.
        assert.deepEqual(readClaim(stored(picked), claim), readClaim(claims, claim), claim)
      }
    })
  }

  it('keeps a __proto__ claim as data and never touches a prototype', () => {
    const claims = JSON.parse('{"__proto__": {"polluted": true}, "a": {"__proto__": 1}}') as Record<
      string,
      unknown
    >
    const picked = pickClaims(claims, ['__proto__', 'a.__proto__'])
    assert.equal(Object.getPrototypeOf(picked), Object.prototype)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.deepEqual(Object.keys(picked).sort(), ['__proto__', 'a'])
    assert.equal(JSON.stringify(picked), '{"__proto__":{"polluted":true},"a":{"__proto__":1}}')
  })
})

describe('createClaimKeeper', () => {
  let current = MAPPING
  const keeper = createClaimKeeper({ current: () => current }, IDENTITY)

  it('keeps the identity claims and what the mapping reads, and names them', () => {
    const kept = keeper.keep({
      sub: 'ann',
      email: 'ann@acme.com',
      realm_access: { roles: ['analyst'], account: { x: 'y'.repeat(5000) } },
      region: 'EU',
      picture: 'z'.repeat(6000),
    })
    assert.deepEqual(stored(kept.claims), {
      sub: 'ann',
      email: 'ann@acme.com',
      realm_access: { roles: ['analyst'] },
      region: 'EU',
    })
    assert.deepEqual(kept.names, ['email', 'name', 'realm_access.roles', 'region', 'status', 'sub'])
    assert.equal(kept.bytes, Buffer.byteLength(JSON.stringify(kept.claims)))
  })

  it('keeps of a session’s claims only what they answer for, even under a newer mapping', () => {
    const session = { sub: 'ann', realm_access: { roles: ['analyst'] } }
    keeper.remember(session, ['email', 'name', 'realm_access.roles', 'sub'])
    const kept = keeper.keep(session)
    assert.deepEqual(kept.names, ['email', 'name', 'realm_access.roles', 'sub'])
    assert.deepEqual(keeper.missing(kept.names), ['region', 'status'])
    // Kept claims answer for their own names when kept again.
    assert.deepEqual(keeper.keep(kept.claims).names, kept.names)
  })

  it('names what a newer mapping reads beyond what was kept; everything when nothing is known', () => {
    const kept = keeper.keep({ sub: 'ann' }).names
    assert.deepEqual(keeper.missing(kept), [])
    current = mappingOf(`
default: {}
rules:
  - when: { claim: department, equals: legal }
    deny: true
  - when: { claim: status, equals: suspended }
    deny: true
`)
    try {
      assert.deepEqual(keeper.missing(kept), ['department'])
      assert.deepEqual(keeper.missing(undefined), keeper.names())
    } finally {
      current = MAPPING
    }
  })
})
