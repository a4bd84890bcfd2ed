import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AllowRule } from '../../../src/config/schema.js'
import { BffError, StartupError } from '../../../src/errors.js'
import {
  ALWAYS_REFUSED,
  assertAllowed,
  compileAllowlist,
  isAlwaysRefused,
  type AllowDecision,
} from '../../../src/proxy/allowlist.js'

const V2 = '/api/rest/2.0'
const V1 = '/callosum/v1'

const OK: AllowDecision = { allowed: true }
const NO_RULE: AllowDecision = { allowed: false, reason: 'no-rule' }
const GROUPS: AllowDecision = { allowed: false, reason: 'groups' }
const REFUSED: AllowDecision = { allowed: false, reason: 'always-refused' }

const shipped: AllowRule[] = [
  { method: 'POST', path: `${V2}/searchdata` },
  { method: 'POST', path: `${V2}/report/*`, groups: ['analysts'] },
  { method: 'GET', path: `${V1}/tspublic/v1/session/info` },
  { method: 'POST', path: `${V2}/metadata/*/data` },
]
const everything: AllowRule[] = [
  { method: '*', path: `${V2}/**` },
  { method: '*', path: `${V1}/**` },
]

// [rules, method, path, user's groups, expected]
type Case = readonly [AllowRule[], string, string, string[], AllowDecision]
const cases: readonly Case[] = [
  [shipped, 'POST', `${V2}/searchdata`, [], OK],
  [shipped, 'GET', `${V2}/searchdata`, [], NO_RULE],
  [shipped, 'POST', `${V2}/searchdata/x`, [], NO_RULE],
  [shipped, 'POST', `${V2}/SearchData`, [], NO_RULE],
  [shipped, 'post', `${V2}/searchdata`, [], NO_RULE],
  [shipped, 'POST', `${V2}/report/liveboard`, ['analysts'], OK],
  [shipped, 'POST', `${V2}/report/liveboard`, ['viewers', 'analysts'], OK],
  [shipped, 'POST', `${V2}/report/liveboard`, ['viewers'], GROUPS],
  [shipped, 'POST', `${V2}/report/liveboard`, [], GROUPS],
  [shipped, 'POST', `${V2}/report/liveboard`, ['Analysts'], GROUPS],
  [shipped, 'GET', `${V2}/report/liveboard`, ['analysts'], NO_RULE],
  [shipped, 'POST', `${V2}/report`, ['analysts'], NO_RULE],
  [shipped, 'POST', `${V2}/report/a/b`, ['analysts'], NO_RULE],
  [shipped, 'GET', `${V1}/tspublic/v1/session/info`, [], OK],
  [shipped, 'HEAD', `${V1}/tspublic/v1/session/info`, [], OK],
  [shipped, 'POST', `${V1}/tspublic/v1/session/info`, [], NO_RULE],
  [shipped, 'POST', `${V2}/metadata/liveboard/data`, [], OK],
  [shipped, 'POST', `${V2}/metadata/answer/data`, [], OK],
  [shipped, 'POST', `${V2}/metadata/a/b/data`, [], NO_RULE],
  [shipped, 'POST', `${V2}/metadata/data`, [], NO_RULE],
  [shipped, 'POST', `${V2}/users/create`, [], NO_RULE],
  // a head rule does not allow GET
  [[{ method: 'HEAD', path: `${V2}/x` }], 'GET', `${V2}/x`, [], NO_RULE],
  [[{ method: 'HEAD', path: `${V2}/x` }], 'HEAD', `${V2}/x`, [], OK],
  // `*` as a method: the six methods, nothing exotic
  [everything, 'DELETE', `${V2}/metadata/x`, [], OK],
  [everything, 'PATCH', `${V2}/metadata/x`, [], OK],
  [everything, 'OPTIONS', `${V2}/metadata/x`, [], NO_RULE],
  [everything, 'TRACE', `${V2}/metadata/x`, [], NO_RULE],
  // `**` needs at least one segment
  [everything, 'GET', `${V2}/a`, [], OK],
  [everything, 'GET', `${V2}/a/b/c/d`, [], OK],
  [everything, 'GET', V2, [], NO_RULE],
  [[{ method: 'GET', path: `${V2}/metadata/**` }], 'GET', `${V2}/metadata`, [], NO_RULE],
  [[{ method: 'GET', path: `${V2}/metadata/**` }], 'GET', `${V2}/metadata/x`, [], OK],
  [[{ method: 'GET', path: `${V2}/metadata/**` }], 'GET', `${V2}/metadataX/y`, [], NO_RULE],
  // `*` is exactly one segment, never spanning two
  [[{ method: 'GET', path: `${V2}/*/data` }], 'GET', `${V2}/a/data`, [], OK],
  [[{ method: 'GET', path: `${V2}/*/data` }], 'GET', `${V2}/a/b/data`, [], NO_RULE],
  [[{ method: 'GET', path: `${V2}/*/data` }], 'GET', `${V2}/data`, [], NO_RULE],
  // a group-limited rule and an open one for the same path: the open one wins
  [
    [
      { method: 'GET', path: `${V2}/x`, groups: ['a'] },
      { method: 'GET', path: `${V2}/x` },
    ],
    'GET',
    `${V2}/x`,
    [],
    OK,
  ],
  // paths not in normalised form fail closed, even under `**`
  [everything, 'GET', `${V2}/a/../b`, [], NO_RULE],
  [everything, 'GET', `${V2}/a%2fb`, [], NO_RULE],
  [everything, 'GET', `${V2}/a/`, [], NO_RULE],
  [everything, 'GET', `${V2}//a`, [], NO_RULE],
  [everything, 'GET', 'api/rest/2.0/a', [], NO_RULE],
  // no rules at all
  [[], 'GET', `${V2}/metadata/search`, [], NO_RULE],
  // the always-refused set wins over `/**` and `*`
  [everything, 'POST', `${V2}/auth/token/full`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/token/object`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/token/custom`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/token/revoke`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/token/validate`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/token/anything/else`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/token`, [], REFUSED],
  [everything, 'POST', `${V2}/AUTH/TOKEN/full`, [], REFUSED],
  [everything, 'POST', `${V2}/Auth/Token/Full`, [], REFUSED],
  [everything, 'POST', `/API/REST/2.0/auth/token/full`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/token.json`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/session/token`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/Session/TOKEN`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/session/token.json`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/configure`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/search`, [], REFUSED],
  [everything, 'POST', `${V1}/tspublic/v1/session/auth/token`, [], REFUSED],
  [everything, 'POST', `${V1}/TSPUBLIC/V1/SESSION/AUTH/TOKEN`, [], REFUSED],
  [everything, 'POST', `${V1}/session/auth/token`, [], REFUSED],
  [
    [{ method: 'POST', path: `${V2}/auth/*/token` }],
    'POST',
    `${V2}/auth/session/token`,
    [],
    REFUSED,
  ],
  [[{ method: 'POST', path: `${V2}/auth/*/token` }], 'POST', `${V2}/auth/other/token`, [], OK],
  // refused wherever a router might reach them: repeated or other prefixes, case, suffixes
  [everything, 'POST', `${V1}/tspublic/v1/tspublic/v1/session/auth/token`, [], REFUSED],
  [everything, 'POST', `${V1}/tspublic/v1/x/session/auth/token`, [], REFUSED],
  [everything, 'POST', `${V1}/tspublic/rest/v2/auth/token/full`, [], REFUSED],
  [everything, 'POST', `${V1}/v2/auth/token/full`, [], REFUSED],
  [everything, 'POST', `${V1}/api/rest/2.0/auth/session/token`, [], REFUSED],
  [everything, 'POST', `${V2}/api/rest/2.0/auth/token/full`, [], REFUSED],
  [everything, 'POST', `${V2}/x/auth/configure`, [], REFUSED],
  [everything, 'POST', `${V2}/x/y/auth/search`, [], REFUSED],
  [everything, 'POST', `${V1}/tspublic/v1/session/AUTH/token.xml`, [], REFUSED],
  [everything, 'POST', `${V1}/tspublic/v1/session/auth.do/token`, [], REFUSED],
  [everything, 'POST', `${V2}/auth/Token.JSON/full`, [], REFUSED],
  [everything, 'POST', `${V2}/Auth.x/Session/Token.y`, [], REFUSED],
  // neighbours of refused routes are not refused
  [everything, 'POST', `${V2}/auth/other/token`, [], OK],
  [everything, 'POST', `${V2}/metadata/auth`, [], OK],
  [everything, 'POST', `${V2}/token/auth`, [], OK],
  [everything, 'POST', `${V2}/authx/token`, [], OK],
  [everything, 'POST', `${V1}/tspublic/v1/session/login/token`, [], OK],
  [everything, 'GET', `${V1}/session/isactive`, [], OK],
  [everything, 'GET', `${V2}/auth/session/user`, [], OK],
  [everything, 'POST', `${V2}/auth/session/logout`, [], OK],
  [everything, 'POST', `${V2}/auth/tokens`, [], OK],
  [everything, 'GET', `${V1}/tspublic/v1/session/info`, [], OK],
]

const describeRules = (rules: AllowRule[]): string =>
  rules.length > 2 ? 'shipped rules' : JSON.stringify(rules)

describe('compileAllowlist().check', () => {
  for (const [rules, method, path, groups, expected] of cases) {
    it(`${method} ${path} [${groups.join(',')}] with ${describeRules(rules)}`, () => {
      assert.deepEqual(compileAllowlist(rules).check(method, path, groups), expected)
    })
  }
})

describe('isAlwaysRefused', () => {
  it('refuses every listed route', () => {
    for (const prefix of ALWAYS_REFUSED) assert.ok(isAlwaysRefused(prefix), prefix)
  })
  it('does not refuse a route that merely starts with the same letters', () => {
    assert.equal(isAlwaysRefused(`${V2}/auth/tokenizer`), false)
    assert.equal(isAlwaysRefused(`${V2}/auth/searching`), false)
  })
})

// [pattern, can the allowlist keep it?]
const startStoppers: readonly (readonly [string, boolean])[] = [
  [`${V2}/auth/token/full`, false],
  [`${V2}/auth/token/*`, false],
  [`${V2}/auth/token/**`, false],
  [`${V2}/auth/token`, false],
  [`${V2}/AUTH/Token/full`, false],
  [`${V2}/auth/token.json`, false],
  [`${V2}/auth/session/token`, false],
  [`${V2}/auth/configure`, false],
  [`${V2}/auth/search`, false],
  [`${V2}/auth/search/**`, false],
  [`${V1}/tspublic/v1/session/auth/token`, false],
  [`${V1}/tspublic/v1/session/auth/token/**`, false],
  [`${V1}/session/auth/token`, false],
  [`${V2}/**`, true],
  [`${V2}/auth/**`, true],
  [`${V2}/auth/*`, true],
  [`${V2}/auth/*/token`, true],
  [`${V2}/auth/session/*`, true],
  [`${V2}/*/token/full`, true],
  // every path these match holds a refused run of segments, wherever it sits
  [`${V1}/*/v1/session/auth/token`, false],
  [`${V1}/tspublic/v1/tspublic/v1/session/auth/token`, false],
  [`${V1}/*/auth/token`, false],
  [`${V1}/v2/auth/token/**`, false],
  [`${V2}/*/auth/search`, false],
  [`${V2}/*/Auth/Token.json`, false],
  [`${V1}/tspublic/*/session/*/token`, true],
  [`${V1}/tspublic/v1/session/*/token`, true],
  [`${V1}/**`, true],
]

describe('compileAllowlist: patterns that can match only refused routes stop the start', () => {
  for (const [path, kept] of startStoppers) {
    it(`${path} is ${kept ? 'accepted' : 'refused'}`, () => {
      const compile = () => compileAllowlist([{ method: 'POST', path }])
      if (kept) assert.doesNotThrow(compile)
      else assert.throws(compile, { name: 'StartupError', message: /always refused/ })
    })
  }
})

// [rule, what the problem line must say]
const malformed: readonly (readonly [AllowRule, RegExp])[] = [
  [{ method: 'GET', path: `${V2}/foo*` }, /whole segments/],
  [{ method: 'GET', path: `${V2}/*foo` }, /whole segments/],
  [{ method: 'GET', path: `${V2}/***` }, /whole segments/],
  [{ method: 'GET', path: `${V2}/a/**/b` }, /only be the last segment/],
  [{ method: 'GET', path: `${V2}/**/**` }, /only be the last segment/],
  [{ method: 'GET', path: '/api/rest/v1/x' }, /must start with/],
  [{ method: 'GET', path: '/*/rest/2.0/x' }, /must start with/],
  [{ method: 'GET', path: V2 }, /must start with/],
  [{ method: 'GET', path: `${V2}/` }, /can never match/],
  [{ method: 'GET', path: `${V2}/a//b` }, /can never match/],
  [{ method: 'GET', path: `${V2}/a/../b` }, /can never match/],
  [{ method: 'GET', path: `${V2}/%61` }, /can never match/],
  [{ method: 'GET', path: `${V2}/a;b` }, /can never match/],
  [{ method: 'GET', path: `${V2}/a b` }, /can never match/],
]
// Methods and groups are the config schema's to check (test/unit/config/load.test.ts).

describe('compileAllowlist: malformed rules', () => {
  for (const [rule, problem] of malformed) {
    it(`${rule.method} ${rule.path} ${JSON.stringify(rule.groups ?? null)}`, () => {
      assert.throws(
        () => compileAllowlist([{ method: 'GET', path: `${V2}/ok` }, rule]),
        (err: unknown) => {
          assert.ok(err instanceof StartupError)
          assert.equal(err.problems.length, 1)
          assert.match(err.problems[0]!, /^proxy\.allow\[1\]: /)
          assert.match(err.problems[0]!, problem)
          return true
        },
      )
    })
  }

  it('collects one problem per bad rule, naming each index', () => {
    try {
      compileAllowlist([
        { method: 'GET', path: `${V2}/ok` },
        { method: 'GET', path: `${V2}/a*` },
        { method: 'GET', path: `${V2}/b` },
        { method: 'POST', path: `${V2}/auth/token/full` },
      ])
      assert.fail('expected a StartupError')
    } catch (err) {
      assert.ok(err instanceof StartupError)
      assert.equal(err.problems.length, 2)
      assert.match(err.problems[0]!, /^proxy\.allow\[1\]: /)
      assert.match(err.problems[1]!, /^proxy\.allow\[3\]: /)
      assert.ok(err instanceof Error)
      assert.match(err.message, /proxy\.allow\[1\]/)
    }
  })

  it('accepts an empty allowlist', () => {
    assert.equal(compileAllowlist([]).size, 0)
  })
})

describe('assertAllowed', () => {
  const allowlist = compileAllowlist(shipped)

  it('returns for an allowed call', () => {
    assert.doesNotThrow(() => assertAllowed(allowlist, 'POST', `${V2}/searchdata`, []))
  })

  for (const [why, path, groups] of [
    ['no rule', `${V2}/users/create`, []],
    ['groups', `${V2}/report/liveboard`, ['viewers']],
    ['always refused', `${V2}/auth/token/full`, ['analysts']],
  ] as const) {
    it(`throws ROUTE_NOT_ALLOWED (${why}) without revealing the rules`, () => {
      assert.throws(
        () => assertAllowed(allowlist, 'POST', path, groups),
        (err: unknown) => {
          assert.ok(err instanceof BffError)
          assert.equal(err.code, 'ROUTE_NOT_ALLOWED')
          assert.equal(err.status, 403)
          assert.equal(err.message, 'This call is not allowed through the ThoughtSpot proxy.')
          assert.doesNotMatch(err.message, /analysts|report|group/i)
          return true
        },
      )
    })
  }
})
