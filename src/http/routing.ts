/**
 * Routes match exactly: Express by default ignores case and a trailing slash, so `/TS/auth/token`
 * and `/ts/session/` would reach the handlers of `/ts/auth/token` and `/ts/session`. Every route
 * the BFF serves has one spelling; another one is a path the BFF does not know (404), so what an
 * operator, a log reader or a front-end rule sees is what ran.
 */
import express, { Router, type Express } from 'express'

/** The options every router and app of the BFF is built with. */
export const EXACT_ROUTING = Object.freeze({ caseSensitive: true, strict: true })

/** A Router whose routes match case-sensitively and without a trailing-slash variant. */
export function exactRouter(): Router {
  return Router(EXACT_ROUTING)
}

/** An express app whose routes match exactly; set before any route is mounted. */
export function exactApp(): Express {
  const app = express()
  app.set('case sensitive routing', EXACT_ROUTING.caseSensitive)
  app.set('strict routing', EXACT_ROUTING.strict)
  return app
}
