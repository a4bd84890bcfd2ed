/**
 * One typed scope per request, kept on `res.locals.scope`. Each step of the pipeline in `app.ts`
 * reads what earlier steps wrote and adds its own part; nothing is added to `req` ad hoc. A step
 * that finds a part missing is a wiring bug, reported as INTERNAL.
 */
import type { Response } from 'express'
import { BffError } from './errors.js'
import type { Access } from './mapping/evaluate.js'
import type { Logger } from './observability/logger.js'
import type { Credential, UpstreamCall } from './proxy/forward.js'

/** Who the request is, once `identity/authenticate` has run. */
export interface AppUser {
  username: string
  email: string | null
  displayName: string | null
  /** The verified app-JWT claims the mapping reads (a session keeps only those). */
  claims: Readonly<Record<string, unknown>>
  /** How the request proved it: a bearer JWT is CSRF-exempt, a session cookie is not. */
  via: 'bearer' | 'session'
  /** When the credential ends: the JWT's `exp` or the session's end (epoch ms). */
  expiresAt: number
}

/** Which ThoughtSpot API a proxied call goes to. */
export type ApiFamily = 'v2' | 'v1'

/** Where a proxied call goes: the checked path, forwarded byte for byte, and the raw query. */
export interface ProxyTarget {
  family: ApiFamily
  /** The normalised upstream path (`/api/rest/2.0/...` or `/callosum/v1/...`). */
  path: string
  /** The raw query string including `?`, or ''; forwarded unchanged. */
  query: string
}

/** Everything the pipeline knows about one request. */
export interface RequestScope {
  requestId: string
  log: Logger
  startedAt: number
  user?: AppUser
  access?: Access
  /** Proxied calls: set by `resolveTarget`. */
  target?: ProxyTarget
  /** Proxied calls: the user's ThoughtSpot credential, set by `attachCredential`. */
  credential?: Credential
  /** Proxied calls: the upstream attempt in flight, owned by the forwarder. */
  upstream?: UpstreamCall
}

function missing(part: string, step: string): BffError {
  return new BffError('INTERNAL', `request ${part} missing: ${step} must run first`)
}

/** The request's scope; set by the request-id step, the first of every request. */
export function scopeOf(res: Response): RequestScope {
  const scope = (res.locals as { scope?: RequestScope }).scope
  if (!scope) throw missing('scope', 'requestId')
  return scope
}

/** The authenticated user, for steps after `authenticate`. */
export function userOf(res: Response): AppUser {
  return scopeOf(res).user ?? throwMissing('user', 'authenticate')
}

/** The user's mapping result, for steps after `mapUser`. */
export function accessOf(res: Response): Access {
  return scopeOf(res).access ?? throwMissing('access', 'mapUser')
}

/** The proxied call's target, for steps after `resolveTarget`. */
export function targetOf(res: Response): ProxyTarget {
  return scopeOf(res).target ?? throwMissing('target', 'resolveTarget')
}

/** The proxied call's credential, for steps after `attachCredential`. */
export function credentialOf(res: Response): Credential {
  return scopeOf(res).credential ?? throwMissing('credential', 'attachCredential')
}

function throwMissing(part: string, step: string): never {
  throw missing(part, step)
}
