/**
 * The rules every trusted-auth mint shares (v2 full/object/custom and v1 session/auth/token):
 * the secret-key check and just-in-time provisioning.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { SimError } from './http.js'
import type { SimUser, SimulatorState } from './state.js'

/** Constant-time comparison; hashing first makes the lengths equal. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/**
 * Refuses a mint without the right key for `orgId`: the cluster key (the Primary Org's) mints in
 * every org, an org's own key only in that org. The simulator has no passwords, so a
 * password-only mint is a 401 like a wrong password; with both, the key decides (the spec's
 * reading, §2.1).
 */
export function checkCredentials(
  state: Pick<SimulatorState, 'secretKey' | 'orgSecretKeys'>,
  orgId: number,
  secretKey: string | undefined,
  password: string | undefined,
): void {
  if (!secretKey && !password) {
    throw new SimError(400, 'Either secret_key or password must be provided')
  }
  const orgKey = state.orgSecretKeys.get(orgId)
  const fits =
    secretKey !== undefined &&
    (sameSecret(secretKey, state.secretKey) ||
      (orgKey !== undefined && sameSecret(secretKey, orgKey)))
  if (!fits) throw new SimError(401, 'Invalid credentials: the secret key or password is wrong')
}

/** What a mint asks of JIT provisioning. */
export interface JitRequest {
  username: string
  orgId: number
  autoCreate: boolean
  email?: string | undefined
  displayName?: string | undefined
  /** Group names; undefined keeps the user's groups, [] removes them all. */
  groups?: readonly string[] | undefined
  /**
   * full/object/v1 update an existing user (email, name, groups, org) when auto-creating;
   * custom never touches an existing user.
   */
  updateExisting: boolean
}

/** Finds or creates the user the token is for, applying JIT changes at mint time. */
export function provisionUser(state: SimulatorState, request: JitRequest): SimUser {
  if (!state.orgs.has(request.orgId)) throw new SimError(400, 'The org does not exist')
  const existing = state.users.get(request.username)
  if (!existing) return createUser(state, request)
  if (request.autoCreate && request.updateExisting) updateUser(state, existing, request)
  if (!existing.orgIds.includes(request.orgId)) {
    throw new SimError(403, 'The user does not belong to the org')
  }
  return existing
}

function createUser(state: SimulatorState, request: JitRequest): SimUser {
  if (!request.autoCreate) throw new SimError(401, 'The user does not exist')
  const user = state.addUser({
    name: request.username,
    email: request.email,
    displayName: request.displayName ?? request.username,
    orgIds: [request.orgId],
    accountType: 'REMOTE_USER',
  })
  if (request.groups !== undefined) state.assignGroups(user, request.groups)
  return user
}

function updateUser(state: SimulatorState, user: SimUser, request: JitRequest): void {
  if (request.email !== undefined) user.email = request.email
  if (request.displayName !== undefined) user.displayName = request.displayName
  if (!user.orgIds.includes(request.orgId)) user.orgIds.push(request.orgId)
  // ThoughtSpot replaces the whole list on every mint that names groups (§7).
  if (request.groups !== undefined) state.assignGroups(user, request.groups)
}
