/**
 * The three demo users. Each takes a different path through config/mapping.yaml, so the demo page
 * shows what the mapping does: full access with an extra group, another org with a row filter,
 * and the restricted REPORT_BOOK_VIEW path (object-scoped tokens only, no REST calls).
 */

/** Issuer and audience of the demo identity provider's app JWTs. */
export const DEMO_ISSUER = 'https://demo-idp.thoughtspot-bff.local'
/** The audience the BFF expects in demo mode. */
export const DEMO_AUDIENCE = 'thoughtspot-bff-demo'

/** One demo user: the claims the demo IdP signs, and how the page introduces them. */
export interface DemoUser {
  /** The key the page asks the IdP for. */
  id: string
  claims: { sub: string; email: string; name: string; roles: string[]; region?: string[] }
  /** A short label for the sign-in button. */
  label: string
  /** What the mapping makes of this user, in a sentence. */
  story: string
}

/** The demo users, in the order the page offers them. */
export const DEMO_USERS: readonly DemoUser[] = [
  {
    id: 'alice',
    claims: {
      sub: 'alice@acme.com',
      email: 'alice@acme.com',
      name: 'Alice Analyst',
      roles: ['analyst'],
    },
    label: 'Alice — analyst at Acme',
    story:
      'Primary org, groups embed_viewers + analysts: every Acme region, and the Margin column.',
  },
  {
    id: 'bob',
    claims: {
      sub: 'bob@globex.com',
      email: 'bob@globex.com',
      name: 'Bob Viewer',
      roles: ['viewer'],
      region: ['EMEA', 'APAC'],
    },
    label: 'Bob — viewer at Globex',
    story: 'Globex org 42, a row filter Region IN (EMEA, APAC) from his region claim, no Margin.',
  },
  {
    id: 'carol',
    claims: {
      sub: 'carol@acme.com',
      email: 'carol@acme.com',
      name: 'Carol Contractor',
      roles: ['viewer-only'],
    },
    label: 'Carol — one liveboard only',
    story:
      'REPORT_BOOK_VIEW: an object-scoped token for the one liveboard; every REST call is refused.',
  },
]

/** The demo user with that id, if any. */
export function demoUser(id: unknown): DemoUser | undefined {
  return DEMO_USERS.find((user) => user.id === id)
}
