/**
 * The proxy's allowlist: config rules of method, path pattern and optional groups, checked and
 * compiled once at start, then asked once per proxied request. A fixed set of token-minting
 * routes is refused whatever the rules say.
 */
import type { NextFunction, Request, Response } from 'express'
import { HTTP_METHODS, type AllowRule } from '../config/schema.js'
import { BffError, StartupError } from '../errors.js'
import { accessOf, targetOf } from '../scope.js'
import { normalizeProxyPath } from './normalize-path.js'

/**
 * Routes refused with 403 ROUTE_NOT_ALLOWED whatever the allowlist says, each with every path
 * below it. They mint or lengthen ThoughtSpot tokens, or change trusted-auth settings; the BFF
 * calls the ones it needs itself, never on a browser's behalf.
 */
export const ALWAYS_REFUSED: readonly string[] = Object.freeze([
  '/api/rest/2.0/auth/token',
  '/api/rest/2.0/auth/session/token',
  '/api/rest/2.0/auth/configure',
  '/api/rest/2.0/auth/search',
  '/callosum/v1/tspublic/v1/session/auth/token',
  '/callosum/v1/session/auth/token',
])

/**
 * The runs of segments that name the {@link ALWAYS_REFUSED} routes, refused wherever they appear
 * in a path, not only after the prefix they are documented under. ThoughtSpot's routers are not
 * ours to read: a servlet mapping may match a repeated or shortened prefix
 * (`/callosum/v1/tspublic/v1/tspublic/v1/session/auth/token`, `/callosum/v1/session/auth/token`),
 * another service may serve the same handler under another base, and Spring-style routers may
 * ignore case and match `token.json` to `token`. So a run is found in any position, compared
 * case-insensitively, with any `.suffix` of a segment ignored. `auth/token` also covers v1's
 * `session/auth/token`; no allowed ThoughtSpot call has these runs in its path.
 */
const REFUSED_RUNS: readonly (readonly string[])[] = [
  ['auth', 'token'],
  ['auth', 'session', 'token'],
  ['auth', 'configure'],
  ['auth', 'search'],
]

/** The path prefixes an allowlist pattern must start with. */
const API_PREFIXES = ['/api/rest/2.0/', '/callosum/v1/'] as const

const ALL_METHODS: readonly string[] = HTTP_METHODS

/**
 * True when `path` reaches, or may reach, one of {@link ALWAYS_REFUSED}: one of their segment
 * runs appears anywhere in it, in any case, with or without `.suffix`es.
 */
export function isAlwaysRefused(path: string): boolean {
  const names = path.split('/').map((segment) => {
    const dot = segment.indexOf('.')
    return (dot === -1 ? segment : segment.slice(0, dot)).toLowerCase()
  })
  return REFUSED_RUNS.some((run) => containsRun(names, run))
}

function containsRun(names: readonly string[], run: readonly string[]): boolean {
  for (let start = 0; start + run.length <= names.length; start++) {
    if (run.every((name, offset) => names[start + offset] === name)) return true
  }
  return false
}

/** Why a request was refused; for the log, never for the client. */
export type RefusalReason = 'always-refused' | 'no-rule' | 'groups'

/** The allowlist's answer for one request. */
export type AllowDecision = { allowed: true } | { allowed: false; reason: RefusalReason }

/** A compiled allowlist; build it with {@link compileAllowlist}. */
export interface Allowlist {
  /** Number of rules, for the start-up log. */
  readonly size: number
  /**
   * Decides one request. `path` must be what `normalizeProxyPath` returned: a path in any other
   * form is refused (`no-rule`), so a caller that forgets to normalise fails closed. `method` is
   * compared as sent (Node upper-cases it); a rule for `GET` also allows `HEAD`, and a rule for `*`
   * allows GET, HEAD, POST, PUT, PATCH and DELETE (never OPTIONS, TRACE or CONNECT). A rule with
   * `groups` needs the user to be in at least one of them.
   */
  check(method: string, path: string, groups: readonly string[]): AllowDecision
}

type Segment = { kind: 'literal'; text: string } | { kind: 'one' } | { kind: 'tail' }

interface CompiledRule {
  methods: ReadonlySet<string>
  segments: readonly Segment[]
  groups: readonly string[] | undefined
}

const ALLOWED: AllowDecision = Object.freeze({ allowed: true })

/** One message for every refusal, so a client cannot probe the rules. */
const NOT_ALLOWED_MESSAGE = 'This call is not allowed through the ThoughtSpot proxy.'

/**
 * Every problem of the allowlist's rules, one line each (`proxy.allow[i]: …`); empty when all
 * can be compiled. The config loader reports them with its other problems.
 *
 * Pattern syntax: literal segments compare case-sensitively with the normalised path; `*` is
 * exactly one segment; `**`, only as the last segment, is one or more segments. A rule is refused
 * when its pattern uses `*` any other way, is not in normalised form (so could never match), does
 * not start with `/api/rest/2.0/` or `/callosum/v1/`, or can match only {@link ALWAYS_REFUSED}
 * routes (`/api/rest/2.0/auth/token/*`). A broader pattern that also matches such routes
 * (`/api/rest/2.0/**`) is accepted; those routes are refused per request.
 *
 * @example
 * const allowlist = compileAllowlist(config.proxy.allow)
 * allowlist.check('POST', '/api/rest/2.0/searchdata', ['analysts']) // { allowed: true }
 */
export function allowlistProblems(rules: readonly AllowRule[]): string[] {
  return rules.flatMap((rule, index) => {
    const problems = pathProblems(rule.path)
    return problems.length > 0 ? [`proxy.allow[${index}]: ${problems.join('; ')}`] : []
  })
}

/** Compiles rules that {@link allowlistProblems} accepts; throws StartupError otherwise. */
export function compileAllowlist(rules: readonly AllowRule[]): Allowlist {
  const problems = allowlistProblems(rules)
  if (problems.length > 0) throw new StartupError(problems)
  const compiled = rules.map(compileRule)
  return Object.freeze({
    size: compiled.length,
    check: (method: string, path: string, groups: readonly string[]) =>
      checkRequest(compiled, method, path, groups),
  })
}

/** Middleware: the proxied call's method and target path must be allowed for the user's groups. */
export function checkAllowlist(allowlist: Allowlist) {
  return function checkAllowlistStep(req: Request, res: Response, next: NextFunction): void {
    assertAllowed(allowlist, req.method, targetOf(res).path, accessOf(res).groups)
    next()
  }
}

/**
 * Throws `BffError('ROUTE_NOT_ALLOWED')` unless `allowlist` allows the request. The message is
 * the same for every reason, so a client learns nothing of the rules; the reason is the cause.
 */
export function assertAllowed(
  allowlist: Allowlist,
  method: string,
  path: string,
  groups: readonly string[],
): void {
  const decision = allowlist.check(method, path, groups)
  if (decision.allowed) return
  throw new BffError('ROUTE_NOT_ALLOWED', NOT_ALLOWED_MESSAGE, {
    cause: new Error(`allowlist refusal: ${decision.reason}`),
  })
}

function pathProblems(path: string): string[] {
  const where = `path ${JSON.stringify(path)}`
  if (!API_PREFIXES.some((prefix) => path.startsWith(prefix))) {
    return [`${where} must start with ${API_PREFIXES.join(' or ')}`]
  }
  const segments = path.split('/').slice(1)
  const problems: string[] = []
  segments.forEach((segment, index) => {
    if (segment.includes('*') && segment !== '*' && segment !== '**') {
      problems.push(`${where}: "*" and "**" must be whole segments, not part of "${segment}"`)
    } else if (segment === '**' && index !== segments.length - 1) {
      problems.push(`${where}: "**" may only be the last segment`)
    }
  })
  if (problems.length > 0) return problems
  if (!isNormalised(path)) {
    return [`${where} can never match: it must be a decoded path such as the proxy forwards`]
  }
  if (canMatchOnlyRefused(path)) {
    return [
      `${where} can only match routes that are always refused (token minting and trusted-auth ` +
        'settings); remove it',
    ]
  }
  return []
}

/**
 * True when every path `pattern` matches is always refused. A path is refused when it holds a
 * refused run of segments somewhere. Take the witness: the pattern's own text, whose `*` and `**`
 * are segments no refused run names. If the witness holds a run, the run lies wholly within the
 * pattern's literal segments, which every matched path has in the same places, so every matched
 * path is refused. If it holds none, the path made by writing any other such segment (`x`) for
 * each wildcard holds none either, and the pattern matches it: an allowed path. So the witness
 * decides.
 */
function canMatchOnlyRefused(pattern: string): boolean {
  return isAlwaysRefused(pattern)
}

function isNormalised(path: string): boolean {
  try {
    return normalizeProxyPath(path) === path
  } catch {
    return false
  }
}

function compileRule(rule: AllowRule): CompiledRule {
  const methods =
    rule.method === '*' ? ALL_METHODS : rule.method === 'GET' ? ['GET', 'HEAD'] : [rule.method]
  const segments = rule.path
    .split('/')
    .slice(1)
    .map((text): Segment => {
      if (text === '**') return { kind: 'tail' }
      if (text === '*') return { kind: 'one' }
      return { kind: 'literal', text }
    })
  return { methods: new Set(methods), segments, groups: rule.groups }
}

function checkRequest(
  rules: readonly CompiledRule[],
  method: string,
  path: string,
  groups: readonly string[],
): AllowDecision {
  if (isAlwaysRefused(path)) return { allowed: false, reason: 'always-refused' }
  if (!isNormalised(path)) return { allowed: false, reason: 'no-rule' }
  const segments = path.split('/').slice(1)
  let refusedForGroups = false
  for (const rule of rules) {
    if (!rule.methods.has(method) || !matchSegments(rule.segments, segments)) continue
    if (!rule.groups || rule.groups.some((group) => groups.includes(group))) return ALLOWED
    refusedForGroups = true
  }
  return { allowed: false, reason: refusedForGroups ? 'groups' : 'no-rule' }
}

function matchSegments(pattern: readonly Segment[], segments: readonly string[]): boolean {
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index]
    if (segment === undefined || segment === '') return false
    if (part.kind === 'tail') return true
    if (part.kind === 'literal' && part.text !== segment) return false
  }
  return segments.length === pattern.length
}
