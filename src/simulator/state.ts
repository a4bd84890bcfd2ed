/**
 * Everything the simulated ThoughtSpot knows: users, groups, orgs, issued tokens, cookie sessions,
 * the recorder of every call that reached it, and the fault switch tests flip. Handlers change it
 * only through these methods, so the rules (expiry by the injected clock, v1 supersession, group
 * creation bookkeeping) live in one place.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type {
  ActiveFault,
  FaultOptions,
  IssueTokenInput,
  MintQuirk,
  NewUser,
  RecordedCall,
  SimSession,
  SimToken,
  SimUser,
} from './model.js'

export { FILTER_OPERATORS, GARBAGE_KINDS } from './model.js'
export type * from './model.js'

/** What `SimulatorState` is built from (startSimulator fills in the defaults). */
export interface StateOptions {
  /** The cluster key and the per-org keys, as `startSimulator`'s options describe them. */
  secretKey: string
  orgSecretKeys?: ReadonlyMap<number, string>
  groups: readonly string[]
  orgs: readonly number[]
  embedOrigins: readonly string[]
  now: () => number
  sessionTtlMs: number
}

/** ThoughtSpot expires a user's older v1 tokens this long after a newer one is minted. */
export const V1_SUPERSEDE_MS = 5 * 60 * 1000
/** How long a 'slow' fault waits when `delayMs` is not given. */
export const DEFAULT_SLOW_MS = 30_000

/** The simulator's whole memory; see the module comment. */
export class SimulatorState {
  readonly calls: RecordedCall[] = []
  readonly users = new Map<string, SimUser>()
  readonly groups: Set<string>
  /** Groups that a mint named but that did not exist, in creation order. */
  readonly createdGroups: string[] = []
  /** Org ids that exist; 0 (the Primary Org) always does. */
  readonly orgs: Set<number>
  /** Origins allowed to call with CORS and to frame the embed app; tests may change it. */
  readonly embedOrigins: Set<string>
  /** Every token issued, by token string; revoked and expired ones stay for inspection. */
  readonly tokens = new Map<string, SimToken>()
  /** Cookie sessions by JSESSIONID (ended ones stay, expired, until logged out). */
  readonly sessions = new Map<string, SimSession>()
  /**
   * Sessions logged out, by JSESSIONID: no longer valid, kept so a test can still tell whose a
   * cookie was and look for it in leaks.
   */
  readonly loggedOutSessions = new Map<string, SimSession>()
  readonly now: () => number
  readonly sessionTtlMs: number
  fault: ActiveFault | null = null
  /**
   * Makes every mint answer like a broken ThoughtSpot until cleared: this token text instead of
   * a fresh one, and/or this life instead of the asked-for validity (negative: already expired).
   * The token is still recorded, so what a client does with it can be checked.
   */
  mintQuirk: MintQuirk | null = null
  /** Calls a 'slow' fault holds right now: each entry lets its call go on. */
  readonly slowCalls = new Set<() => void>()
  /** The cluster's trusted-auth key; tests may change it (a key regenerated upstream). */
  secretKey: string
  /** Per-org keys (orgId → key); tests may change them. */
  readonly orgSecretKeys: Map<number, string>
  private nextCallId = 1

  constructor(options: StateOptions) {
    this.secretKey = options.secretKey
    this.orgSecretKeys = new Map(options.orgSecretKeys)
    this.groups = new Set(options.groups)
    this.orgs = new Set([0, ...options.orgs])
    this.embedOrigins = new Set(options.embedOrigins)
    this.now = options.now
    this.sessionTtlMs = options.sessionTtlMs
  }

  // ---- recorder ----

  /** Appends a call (status 0 until answered) and returns it so the answer can fill it in. */
  record(call: Omit<RecordedCall, 'id' | 'at' | 'status'>): RecordedCall {
    const recorded: RecordedCall = { id: this.nextCallId++, at: this.now(), status: 0, ...call }
    this.calls.push(recorded)
    return recorded
  }

  /** Calls whose path ends with `suffix`, or matches the regular expression. */
  callsTo(pathSuffixOrRegex: string | RegExp): RecordedCall[] {
    const pattern = pathSuffixOrRegex
    // `search` ignores `lastIndex`, so a /g regex cannot skip matches between calls.
    return this.calls.filter((call) =>
      typeof pattern === 'string' ? call.path.endsWith(pattern) : call.path.search(pattern) >= 0,
    )
  }

  /** Forgets every recorded call (ids keep counting up). */
  clearCalls(): void {
    this.calls.length = 0
  }

  // ---- users, groups, orgs ----

  /** Creates a user directly (test set-up, not a mint): unknown groups are added, not logged. */
  addUser(input: NewUser): SimUser {
    if (this.users.has(input.name)) throw new Error(`user ${input.name} already exists`)
    for (const group of input.groups ?? []) this.groups.add(group)
    for (const org of input.orgIds ?? []) this.orgs.add(org)
    const user: SimUser = {
      id: randomUUID(),
      name: input.name,
      groups: [...new Set(input.groups ?? [])],
      orgIds: [...new Set(input.orgIds ?? [0])],
      accountType: input.accountType ?? 'LOCAL_USER',
      created: this.now(),
    }
    if (input.email !== undefined) user.email = input.email
    if (input.displayName !== undefined) user.displayName = input.displayName
    this.users.set(user.name, user)
    return user
  }

  /** Finds a user by name or by GUID. */
  findUser(nameOrId: string): SimUser | undefined {
    const byName = this.users.get(nameOrId)
    if (byName) return byName
    for (const user of this.users.values()) if (user.id === nameOrId) return user
    return undefined
  }

  /**
   * Replaces the user's groups, creating (and logging) any that do not exist: ThoughtSpot silently
   * creates empty groups for unknown names, which is exactly what a BFF must never cause.
   */
  assignGroups(user: SimUser, names: readonly string[]): void {
    for (const name of names) {
      if (this.groups.has(name)) continue
      this.groups.add(name)
      this.createdGroups.push(name)
    }
    user.groups = [...new Set(names)]
  }

  // ---- tokens ----

  /** Issues a token valid for `validityMs`; a v1 token supersedes the user's older v1 ones. */
  issueToken(input: IssueTokenInput): SimToken {
    const createdAt = this.now()
    if (input.api === 'v1') this.supersedeV1Tokens(input.user.name, createdAt)
    const token: SimToken = {
      id: randomUUID(),
      token: this.mintQuirk?.token ?? randomBytes(36).toString('base64url'),
      username: input.user.name,
      userId: input.user.id,
      orgId: input.orgId,
      accessType: input.accessType,
      objectId: input.objectId,
      createdAt,
      expiresAt: createdAt + (this.mintQuirk?.lifeMs ?? input.validityMs),
      revoked: false,
      api: input.api,
    }
    if (input.filterRules) token.filterRules = input.filterRules
    if (input.variableValues) token.variableValues = input.variableValues
    if (input.persistOption) token.persistOption = input.persistOption
    this.tokens.set(token.token, token)
    return token
  }

  /** The token when it exists, is not revoked and has not expired. */
  activeToken(token: string): SimToken | undefined {
    const found = this.tokens.get(token)
    if (!found || found.revoked || this.now() >= found.expiresAt) return undefined
    return found
  }

  /** Makes the token expire now; false when it is unknown. */
  expireToken(token: string): boolean {
    const found = this.tokens.get(token)
    if (!found) return false
    found.expiresAt = Math.min(found.expiresAt, this.now())
    return true
  }

  /** Revokes every token of the user; returns how many were still active. */
  revokeTokensOf(username: string): number {
    const active = this.validTokensOf(username)
    for (const token of active) token.revoked = true
    return active.length
  }

  /** The user's tokens that still work. */
  validTokensOf(username: string): SimToken[] {
    return [...this.tokens.values()].filter(
      (token) => token.username === username && this.activeToken(token.token) !== undefined,
    )
  }

  /** v1 rule: a new v1 token makes the user's older ones expire five minutes later. */
  private supersedeV1Tokens(username: string, at: number): void {
    for (const token of this.validTokensOf(username)) {
      if (token.api === 'v1') token.expiresAt = Math.min(token.expiresAt, at + V1_SUPERSEDE_MS)
    }
  }

  // ---- cookie sessions ----

  /** A new cookie session for the token's user, scope and org. */
  createSession(token: SimToken): SimSession {
    const createdAt = this.now()
    const session: SimSession = {
      id: randomBytes(24).toString('hex').toUpperCase(),
      username: token.username,
      userId: token.userId,
      orgId: token.orgId,
      accessType: token.accessType,
      objectId: token.objectId,
      clientId: randomUUID(),
      createdAt,
      expiresAt: createdAt + this.sessionTtlMs,
      sourceToken: token.token,
    }
    this.sessions.set(session.id, session)
    return session
  }

  /** The live session, its idle timer restarted: ThoughtSpot's session timeout counts idle time. */
  touchSession(id: string): SimSession | undefined {
    const session = this.sessions.get(id)
    const now = this.now()
    if (!session || now >= session.expiresAt) return undefined
    session.expiresAt = now + this.sessionTtlMs
    return session
  }

  /** Logs a cookie session out: it leaves `sessions` for `loggedOutSessions`. */
  endSession(id: string): void {
    const session = this.sessions.get(id)
    if (session) this.loggedOutSessions.set(id, session)
    this.sessions.delete(id)
  }

  /** Ends the cookie sessions that match (all of them without a predicate). */
  endSessionsWhere(match: (session: SimSession) => boolean = () => true): void {
    for (const session of this.sessions.values()) {
      if (match(session)) session.expiresAt = Math.min(session.expiresAt, this.now())
    }
  }

  /** Kills every cookie session, so the next call carrying one gets 401. */
  expireSessions(): void {
    this.endSessionsWhere()
  }

  // ---- faults ----

  /** Switches a fault on for the following requests (replacing any other). */
  setFault(options: FaultOptions): void {
    if (options.times !== undefined && (!Number.isInteger(options.times) || options.times < 1)) {
      throw new RangeError('fault "times" must be a positive integer')
    }
    this.fault = {
      mode: options.mode,
      delayMs: options.delayMs ?? DEFAULT_SLOW_MS,
      paths: options.paths,
      retryAfterSeconds: options.retryAfterSeconds ?? 1,
      garbage: options.garbage,
      remaining: options.times,
      served: 0,
    }
  }

  /** Switches the fault off. */
  clearFault(): void {
    this.fault = null
  }

  /** Lets every call held by a 'slow' fault go on to its real answer now; returns how many. */
  releaseSlowCalls(): number {
    const held = [...this.slowCalls]
    held.forEach((release) => release())
    return held.length
  }

  /** The fault that applies to this request, counting it against `times`. */
  takeFault(path: string): ActiveFault | null {
    const fault = this.fault
    if (!fault) return null
    if (fault.paths && path.search(fault.paths) < 0) return null
    if (fault.remaining !== undefined) {
      fault.remaining -= 1
      if (fault.remaining <= 0) this.fault = null
    }
    fault.served += 1
    return fault
  }
}

/** Org display names: ThoughtSpot calls org 0 the Primary Org. */
export function orgName(id: number): string {
  return id === 0 ? 'Primary' : `Org ${id}`
}

/** A stable GUID for a name, so group ids stay the same across calls and runs. */
export function stableGuid(kind: string, name: string): string {
  const hex = createHash('sha256').update(`${kind}:${name}`).digest('hex')
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20, 32),
  ]
    .join('-')
    .toLowerCase()
}
