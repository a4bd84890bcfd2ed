/**
 * The simulator's data model: what it records, the users, tokens and sessions it keeps, and the
 * fault switch. Plain types; the rules that change them live in state.ts.
 */
/** One request as it arrived on the wire, and the status the simulator answered (0: none). */
export interface RecordedCall {
  id: number
  at: number
  method: string
  /** Raw path without the query, exactly as received. */
  path: string
  /** Raw query string without '?'. */
  query: string
  /** Lower-case header names, values as received. */
  headers: Record<string, string | string[] | undefined>
  /** Raw body bytes, kept even when they fail to parse (at most the body limit). */
  body: Buffer
  json?: unknown
  form?: Record<string, string>
  status: number
}

/** REMOTE_USER is how ThoughtSpot marks users created by trusted auth. */
export type AccountType = 'REMOTE_USER' | 'LOCAL_USER'

/** A ThoughtSpot user; keyed by `name` in `state.users`. */
export interface SimUser {
  id: string
  name: string
  email?: string
  displayName?: string
  groups: string[]
  orgIds: number[]
  accountType: AccountType
  created: number
}

/** FULL, or REPORT_BOOK_VIEW for an object-scoped token. */
export type AccessType = 'FULL' | 'REPORT_BOOK_VIEW'
/** Which mint issued a token. */
export type TokenApi = 'full' | 'object' | 'custom' | 'v1'
/** `persist_option` of `auth/token/custom`. */
export type PersistOption = 'REPLACE' | 'APPEND' | 'NONE' | 'RESET'
/** A value in `filter_rules` or `variable_values`. */
export type ScalarValue = string | number | boolean

/** Operators ThoughtSpot accepts in `filter_rules`. */
export const FILTER_OPERATORS = [
  'EQ',
  'NE',
  'LT',
  'LE',
  'GT',
  'GE',
  'IN',
  'BW',
  'CONTAINS',
  'BEGINS_WITH',
  'ENDS_WITH',
  'BW_INC',
  'BW_INC_MIN',
  'BW_INC_MAX',
  'LIKE',
  'NOT_IN',
] as const
/** One of `FILTER_OPERATORS`. */
export type FilterOperator = (typeof FILTER_OPERATORS)[number]

/** One `filter_rules` entry of `auth/token/custom`. */
export interface FilterRule {
  column_name: string
  operator: FilterOperator
  values: ScalarValue[]
}

/** One `variable_values` entry of `auth/token/custom`. */
export interface VariableValue {
  name: string
  values: ScalarValue[]
}

/** An issued token and what it grants; keyed by the token string in `state.tokens`. */
export interface SimToken {
  /** The token's own GUID (`id` in the `AccessToken` response). */
  id: string
  token: string
  username: string
  userId: string
  orgId: number
  accessType: AccessType
  objectId: string | null
  createdAt: number
  expiresAt: number
  revoked: boolean
  api: TokenApi
  filterRules?: FilterRule[]
  variableValues?: VariableValue[]
  persistOption?: PersistOption
}

/** A cookie session created by v1 `session/login/token`, keyed by its JSESSIONID. */
export interface SimSession {
  id: string
  username: string
  userId: string
  orgId: number
  accessType: AccessType
  objectId: string | null
  clientId: string
  createdAt: number
  expiresAt: number
  /** The login token it was made from, so revoking that token ends the session too. */
  sourceToken: string
}

/** What the fault switch makes the simulator do; see `FaultOptions`. */
export type FaultMode =
  'down' | 'slow' | 'unauthorized' | 'rateLimited' | 'maintenance' | 'error' | 'garbage'

/**
 * The broken answers of the 'garbage' fault: a JSON type over a body that is cut short
 * (`truncated-json`) or is not JSON at all (`not-json`), JSON labelled `text/plain`
 * (`wrong-type`), bytes that are no text in any charset (`binary`), an error status over a
 * non-JSON body (`error-not-json`), and an answer whose connection drops before the body its
 * Content-Length announced has arrived (`cut-off`).
 */
export const GARBAGE_KINDS = [
  'truncated-json',
  'not-json',
  'wrong-type',
  'binary',
  'error-not-json',
  'cut-off',
] as const
/** One of `GARBAGE_KINDS`. */
export type GarbageKind = (typeof GARBAGE_KINDS)[number]

/** What `state.setFault()` takes. */
export interface FaultOptions {
  mode: FaultMode
  /** For 'slow': how long to wait before handling (default 30 s). */
  delayMs?: number
  /** Only requests whose path matches are faulted. */
  paths?: RegExp
  /** Only the next N matching requests are faulted; then the fault clears itself. */
  times?: number
  /** For 'rateLimited': the `Retry-After` value (default 1). */
  retryAfterSeconds?: number
  /** For 'garbage': always this kind; without it the kinds take turns, one per faulted call. */
  garbage?: GarbageKind
}

/** The fault in force; `remaining` counts down when `times` was given. */
export interface ActiveFault {
  readonly mode: FaultMode
  readonly delayMs: number
  readonly paths: RegExp | undefined
  readonly retryAfterSeconds: number
  readonly garbage: GarbageKind | undefined
  remaining: number | undefined
  /** How many calls it has faulted so far (the turn of the 'garbage' kinds). */
  served: number
}

/** What `state.addUser()` takes; accountType defaults to LOCAL_USER, orgIds to [0]. */
export interface NewUser {
  name: string
  email?: string
  displayName?: string
  groups?: string[]
  orgIds?: number[]
  accountType?: AccountType
}

/** See `state.mintQuirk`: what a broken ThoughtSpot mints. */
export interface MintQuirk {
  /** The token text every mint answers. */
  token?: string
  /** The life of every minted token in ms, whatever validity was asked for. */
  lifeMs?: number
}

/** What `state.issueToken()` takes. */
export interface IssueTokenInput {
  user: SimUser
  orgId: number
  accessType: AccessType
  objectId: string | null
  api: TokenApi
  validityMs: number
  filterRules?: FilterRule[]
  variableValues?: VariableValue[]
  persistOption?: PersistOption
}
