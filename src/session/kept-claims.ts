/**
 * What a session (and a token's ledger entry) keeps of an app JWT: the claims that name the user
 * and the claims the mapping in force reads, nothing else. A whole JWT is kilobytes, and a session
 * lives for hours. The names that were kept are stored beside them: a claim that was dropped
 * cannot be told apart from one the JWT never had, so a later mapping that reads another claim
 * must not evaluate such a session (a deny rule on that claim would be evaded).
 */
import type { MappingHolder } from '../mapping/holder.js'
import type { LoadedMapping } from '../mapping/schema.js'

/** Claims picked from an app JWT, with the names they answer for. */
export interface KeptClaims {
  claims: Record<string, unknown>
  /**
   * Every claim name the claims answer for, sorted: present in them, or known to be absent from
   * the JWT they came from.
   */
  names: readonly string[]
  /** Size of `claims` as JSON, in bytes. */
  bytes: number
}

/** The claims that name the user (identity config). */
export interface IdentityClaimNames {
  usernameClaim: string
  emailClaim: string
  displayNameClaim: string
}

/** The claim names a mapping reads: each rule's `when.claim`, each attribute's `claim`. */
export function claimsReadBy(loaded: LoadedMapping): string[] {
  const { rules, attributes } = loaded.mapping
  return [...rules.map((rule) => rule.when.claim), ...attributes.map((attr) => attr.claim)]
}

/** An own property, even for `__proto__`: plain assignment would set the prototype instead. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object'
}

/**
 * Copies what the dotted path `parts` reaches in `source` into `out`, building only the objects
 * on the way. Containers it built are in `built`; anything else already in `out` is a whole
 * value copied from `source`, which holds the path already.
 */
function copyPath(
  source: Record<string, unknown>,
  out: Record<string, unknown>,
  parts: readonly string[],
  built: Set<object>,
): void {
  let node: unknown = source
  for (const part of parts) {
    if (!isRecord(node) || !Object.hasOwn(node, part)) return // absent: nothing to keep
    node = node[part]
  }
  let container = out
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1) {
      put(container, part, node)
      return
    }
    if (!Object.hasOwn(container, part)) {
      const next: Record<string, unknown> = {}
      built.add(next)
      put(container, part, next)
      container = next
      continue
    }
    const existing = container[part]
    if (!isRecord(existing) || !built.has(existing)) return
    container = existing
  }
}

/**
 * The part of `claims` that `names` read, the way the mapping reads a claim: the key itself when
 * there is one, else the dotted path (`realm_access.roles`). Evaluating any of `names` on the
 * result gives what it gives on `claims`.
 */
export function pickClaims(
  claims: Readonly<Record<string, unknown>>,
  names: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const built = new Set<object>()
  // Whole keys first: a longer path into one of them is then already covered.
  for (const name of names) if (Object.hasOwn(claims, name)) put(out, name, claims[name])
  for (const name of names) {
    if (!Object.hasOwn(claims, name)) copyPath(claims, out, name.split('.'), built)
  }
  return out
}

/** Picks claims for the mapping in force, and tells whether kept names still cover it. */
export interface ClaimKeeper {
  /** The names kept under the mapping in force: the identity claims and what the mapping reads. */
  names(): readonly string[]
  /**
   * The claims to keep of `claims` under the mapping in force. Of claims that are themselves kept
   * claims (a session's), it keeps and names only what they answer for: a reload between the
   * session check and a mint must not make a ledger entry claim to know a claim it never saw.
   */
  keep(claims: Readonly<Record<string, unknown>>): KeptClaims
  /** Records that `claims` (a session's, as stored) answers only for `names`. */
  remember(claims: Readonly<Record<string, unknown>>, names: readonly string[]): void
  /**
   * The names the mapping in force reads that `kept` does not answer for; every one of them when
   * `kept` is undefined (nothing known to have been kept).
   */
  missing(kept: readonly string[] | undefined): string[]
}

/** The keeper for `mapping` (read at each call, so reloads apply). */
export function createClaimKeeper(
  mapping: Pick<MappingHolder, 'current'>,
  identity: Readonly<IdentityClaimNames>,
): ClaimKeeper {
  const identityNames = [identity.usernameClaim, identity.emailClaim, identity.displayNameClaim]
  const cache = new WeakMap<LoadedMapping, readonly string[]>()
  // By object identity: claims objects live as long as their request (or cache entry) does.
  const answersFor = new WeakMap<object, readonly string[]>()
  const names = (): readonly string[] => {
    const loaded = mapping.current()
    let found = cache.get(loaded)
    if (!found) {
      found = [...new Set([...identityNames, ...claimsReadBy(loaded)])].sort()
      cache.set(loaded, found)
    }
    return found
  }
  return {
    names,
    keep(claims) {
      const known = answersFor.get(claims)
      const kept = known ? names().filter((name) => known.includes(name)) : names()
      const picked = pickClaims(claims, kept)
      answersFor.set(picked, kept)
      return { claims: picked, names: kept, bytes: Buffer.byteLength(JSON.stringify(picked)) }
    },
    remember(claims, kept) {
      answersFor.set(claims, kept)
    },
    missing(kept) {
      const known = new Set(kept ?? [])
      return names().filter((name) => !known.has(name))
    },
  }
}
