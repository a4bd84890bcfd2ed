/** Session and user routes, and what their JSON loses before it reaches the browser. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isSessionRoute, stripCredentialFields } from '../../../src/proxy/session-body.js'

describe('isSessionRoute', () => {
  const cases: Array<[string, boolean]> = [
    ['/callosum/v1/tspublic/v1/session/info', true],
    ['/callosum/v1/session/info', true],
    ['/callosum/v1/session/isactive', true],
    ['/callosum/v1/tspublic/v1/session/orgs', true],
    ['/api/rest/2.0/auth/session/user', true],
    ['/callosum/v1/tspublic/v1/Session.json/info', true],
    ['/api/rest/2.0/searchdata', false],
    ['/api/rest/2.0/metadata/sessions', false],
    ['/callosum/v1/tspublic/v1/pinboarddata', false],
  ]
  for (const [path, expected] of cases) {
    it(`${path} → ${expected}`, () => assert.equal(isSessionRoute(path), expected))
  }
})

describe('stripCredentialFields', () => {
  const INJECTED = 'injected-token-0123456789'

  it('removes credential-named fields holding text or objects, at any depth', () => {
    const out = stripCredentialFields(
      {
        userName: 'alice',
        authToken: 'abc',
        nested: { sessionId: 'x', tokens: ['a'], secret_key: { v: 1 }, keep: 1 },
        list: [{ authorization: 'Bearer z', ok: true }],
      },
      [],
    )
    assert.deepEqual(out, { userName: 'alice', nested: { keep: 1 }, list: [{ ok: true }] })
  })

  it('keeps flags, numbers and nulls even under credential-like names', () => {
    const input = { isSessionExpiring: false, sessionTimeoutSeconds: 1800, tokenHint: null }
    assert.deepEqual(stripCredentialFields(input, []), input)
  })

  it('redacts the injected credential from the remaining strings and keys', () => {
    const out = stripCredentialFields({ note: `was ${INJECTED}`, [INJECTED]: 1 }, [INJECTED])
    assert.deepEqual(out, { note: 'was [redacted]', '[redacted]': 1 })
  })
})
