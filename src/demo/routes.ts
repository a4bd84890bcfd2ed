/**
 * The demo identity provider and demo page. The IdP signs app JWTs for two fixed demo users, the
 * way a real app's login would; the page then uses them exactly as an embedding app would.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import express, { Router } from 'express'
import { SignJWT } from 'jose'
import { BffError } from '../errors.js'

export const DEMO_ISSUER = 'https://demo-idp.thoughtspot-bff.local'
export const DEMO_AUDIENCE = 'thoughtspot-bff-demo'

/** Two users the shipped mapping treats differently: an analyst and a plain viewer. */
export const DEMO_USERS = {
  alice: {
    sub: 'alice@acme.com',
    email: 'alice@acme.com',
    name: 'Alice Analyst',
    roles: ['analyst'],
  },
  bob: { sub: 'bob@globex.com', email: 'bob@globex.com', name: 'Bob Viewer', roles: ['viewer'] },
} as const

/** The page's folder: next to this file in the sources, or src/demo/page from the build output. */
function pageDir(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  const candidates = [join(here, 'page'), join(here, '..', '..', '..', 'src', 'demo', 'page')]
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? (candidates[0] as string)
}

export function demoRoutes(idpSecret: string): Router {
  const key = new TextEncoder().encode(idpSecret)
  const router = Router()
  router.post(
    '/demo/idp/login',
    express.json({ limit: '1kb' }),
    async function demoLogin(req, res) {
      const name = (req.body as { user?: unknown } | undefined)?.user
      const user = name === 'alice' || name === 'bob' ? DEMO_USERS[name] : undefined
      if (!user) throw new BffError('BAD_REQUEST', 'Pick a demo user: alice or bob.')
      const jwt = await new SignJWT({ email: user.email, name: user.name, roles: [...user.roles] })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.sub)
        .setIssuer(DEMO_ISSUER)
        .setAudience(DEMO_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(key)
      res.setHeader('Cache-Control', 'no-store')
      res.json({ jwt })
    },
  )
  router.use(express.static(pageDir(), { index: 'index.html', maxAge: 0 }))
  return router
}
