/**
 * REST v2 trusted-auth mints: `auth/token/full`, `auth/token/object` and `auth/token/custom`.
 * They need no bearer; the secret key is the credential.
 */
import {
  asObject,
  asString,
  optArray,
  optBool,
  optEnum,
  optInt,
  optObject,
  optString,
  reqEnum,
  reqString,
  scalarArray,
} from './fields.js'
import { jsonBody, json, SimError, V2, type Answer, type Context, type Route } from './http.js'
import {
  FILTER_OPERATORS,
  orgName,
  type FilterRule,
  type PersistOption,
  type SimToken,
  type SimulatorState,
  type VariableValue,
} from './state.js'
import { checkCredentials, provisionUser } from './trusted-auth.js'

type Body = Record<string, unknown>

const DEFAULT_VALIDITY_SEC = 300
const PERSIST_OPTIONS = ['REPLACE', 'APPEND', 'NONE', 'RESET'] as const satisfies PersistOption[]

/** Fields `full`, `object` and `custom` share, type-checked before the key is looked at. */
interface MintBasics {
  username: string
  validityMs: number
  email: string | undefined
  displayName: string | undefined
  autoCreate: boolean | undefined
  secretKey: string | undefined
  password: string | undefined
}

function readBasics(body: Body): MintBasics {
  return {
    username: reqString(body, 'username', { max: 255 }),
    validityMs: (optInt(body, 'validity_time_in_sec', 1) ?? DEFAULT_VALIDITY_SEC) * 1000,
    email: optString(body, 'email', { min: 0 }),
    displayName: optString(body, 'display_name', { min: 0 }),
    autoCreate: optBool(body, 'auto_create'),
    secretKey: optString(body, 'secret_key', { min: 0 }),
    password: optString(body, 'password', { min: 0 }),
  }
}

/** The `Token` response of full and object mints. */
function tokenResponse(token: SimToken) {
  return {
    token: token.token,
    creation_time_in_millis: token.createdAt,
    expiration_time_in_millis: token.expiresAt,
    scope: { access_type: token.accessType, org_id: token.orgId, metadata_id: token.objectId },
    valid_for_user_id: token.userId,
    valid_for_username: token.username,
  }
}

function mintScoped(ctx: Context, api: 'full' | 'object'): Answer {
  const body = jsonBody(ctx)
  const basics = readBasics(body)
  const orgId = optInt(body, 'org_id', 0) ?? 0
  const groups = optArray(body, 'group_identifiers', (value, where) => asString(value, where))
  optObject(body, 'user_parameters') // accepted for its type only: legacy ABAC is not simulated
  const objectId = api === 'object' ? reqString(body, 'object_id') : null
  checkCredentials(ctx.state, orgId, basics.secretKey, basics.password)
  const autoCreate = basics.autoCreate ?? false
  const user = provisionUser(ctx.state, {
    username: basics.username,
    orgId,
    autoCreate,
    email: basics.email,
    displayName: basics.displayName,
    // Groups are a JIT change: applied only together with auto_create.
    groups: autoCreate ? groups : undefined,
    updateExisting: true,
  })
  const token = ctx.state.issueToken({
    user,
    orgId,
    accessType: api === 'object' ? 'REPORT_BOOK_VIEW' : 'FULL',
    objectId,
    api,
    validityMs: basics.validityMs,
  })
  return json(tokenResponse(token))
}

function readFilterRule(value: unknown, where: string): FilterRule {
  const rule = asObject(value, where)
  const operator = optEnum(rule, 'operator', FILTER_OPERATORS)
  if (operator === undefined) throw new SimError(400, `'${where}.operator' is required`)
  return {
    column_name: asString(rule.column_name, `${where}.column_name`),
    operator,
    values: scalarArray(rule, 'values', where),
  }
}

function readNamedValues(value: unknown, where: string): VariableValue {
  const entry = asObject(value, where)
  return {
    name: asString(entry.name, `${where}.name`),
    values: scalarArray(entry, 'values', where),
  }
}

function readGroupRef(value: unknown, where: string): string {
  return asString(asObject(value, where).identifier, `${where}.identifier`)
}

function readObjectRef(value: unknown, where: string): string {
  const ref = asObject(value, where)
  optEnum(ref, 'type', ['LOGICAL_TABLE'])
  return asString(ref.identifier, `${where}.identifier`)
}

/** `org_identifier` is a string holding an org id or name. */
function resolveOrg(state: SimulatorState, identifier: string): number {
  for (const id of state.orgs) {
    if (String(id) === identifier || orgName(id).toLowerCase() === identifier.toLowerCase()) {
      return id
    }
  }
  throw new SimError(400, 'The org does not exist')
}

function mintCustom(ctx: Context): Answer {
  const body = jsonBody(ctx)
  const basics = readBasics(body)
  const persist = reqEnum(body, 'persist_option', PERSIST_OPTIONS)
  const orgIdentifier = optString(body, 'org_identifier')
  const groups = optArray(body, 'groups', readGroupRef)
  const filterRules = optArray(body, 'filter_rules', readFilterRule)
  const variableValues = optArray(body, 'variable_values', readNamedValues)
  optArray(body, 'parameter_values', readNamedValues)
  optArray(body, 'objects', readObjectRef)
  if ((persist === 'RESET' || persist === 'NONE') && variableValues !== undefined) {
    throw new SimError(400, `persist_option ${persist} cannot be used with variable_values`)
  }
  const existing = ctx.state.users.get(basics.username)
  const orgId =
    orgIdentifier === undefined ? (existing?.orgIds[0] ?? 0) : resolveOrg(ctx.state, orgIdentifier)
  checkCredentials(ctx.state, orgId, basics.secretKey, basics.password)
  const user = provisionUser(ctx.state, {
    username: basics.username,
    orgId,
    autoCreate: basics.autoCreate ?? true,
    email: basics.email,
    displayName: basics.displayName,
    groups,
    updateExisting: false,
  })
  const token = ctx.state.issueToken({
    user,
    orgId,
    accessType: 'FULL',
    objectId: null,
    api: 'custom',
    validityMs: basics.validityMs,
    ...(filterRules && { filterRules }),
    ...(variableValues && { variableValues }),
    persistOption: persist,
  })
  return json({
    id: token.id,
    token: token.token,
    org: { id: orgId, name: orgName(orgId) },
    user: { id: user.id, name: user.name },
    creation_time_in_millis: token.createdAt,
    expiration_time_in_millis: token.expiresAt,
  })
}

/** The v2 mint routes, for the server's route table. */
export const mintRoutes: Route[] = [
  { method: 'POST', path: `${V2}/auth/token/full`, handle: (ctx) => mintScoped(ctx, 'full') },
  { method: 'POST', path: `${V2}/auth/token/object`, handle: (ctx) => mintScoped(ctx, 'object') },
  { method: 'POST', path: `${V2}/auth/token/custom`, handle: mintCustom },
]
