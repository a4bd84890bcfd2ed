/**
 * The proxy's first step: split the URL after `/ts`, check and normalise the path (BAD_PATH), and
 * name the ThoughtSpot API it goes to (else NOT_FOUND). What it decides is the request's
 * `target`: matched against the allowlist and forwarded, byte for byte.
 */
import type { NextFunction, Request, Response } from 'express'
import { BffError } from '../errors.js'
import { scopeOf, type ApiFamily } from '../scope.js'
import { normalizeProxyPath } from './normalize-path.js'

/** The path prefix the BFF serves the proxy under. */
export const PROXY_MOUNT = '/ts'

const FAMILIES: ReadonlyArray<readonly [string, ApiFamily]> = [
  ['/api/rest/2.0/', 'v2'],
  ['/callosum/v1/', 'v1'],
]

/** Middleware: sets `scope.target` for a proxied call, or refuses the path. */
export function resolveTarget(req: Request, res: Response, next: NextFunction): void {
  const raw = req.originalUrl.slice(PROXY_MOUNT.length)
  const queryAt = raw.indexOf('?')
  const path = normalizeProxyPath(queryAt === -1 ? raw : raw.slice(0, queryAt))
  const family = FAMILIES.find(([prefix]) => path.startsWith(prefix))?.[1]
  if (!family) throw new BffError('NOT_FOUND', 'No such route.')
  scopeOf(res).target = { family, path, query: queryAt === -1 ? '' : raw.slice(queryAt) }
  next()
}
