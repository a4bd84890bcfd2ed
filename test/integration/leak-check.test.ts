/**
 * The leak check that every test stack runs when it closes (test/helpers/leak-check.ts): proof
 * that it sees a credential in a log line and in a response, and where a token is allowed.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scrubbedEnv, spawnNode } from '../helpers/child-process.js'
import { findLeaks } from '../helpers/leak-check.js'
import { startStack, TEST_SESSION_SECRET, TEST_TS_SECRET, type Stack } from '../helpers/start.js'

const USER = { sub: 'pat@acme.com' }

describe('the leak check', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack()
  })
  after(() => stack.close({ leakCheck: false }))

  it('finds nothing on a clean run, then finds a planted secret in a log line and in a response', async () => {
    const bearer = `Bearer ${await stack.jwt(USER)}`
    const minted = await stack.request.get('/ts/auth/token').set('Authorization', bearer)
    assert.equal(minted.status, 200)
    const proxied = await stack.request
      .get('/ts/api/rest/2.0/auth/session/user')
      .set('Authorization', bearer)
    assert.equal(proxied.status, 200)
    // The token endpoint handed out the user's token, which is its job: not a leak.
    assert.ok(stack.simulator.state.tokens.size > 0)
    assert.deepEqual(stack.leaks(), [])

    // A log line that carries the secret key under a key redaction does not know.
    stack.services.log.info({ note: TEST_TS_SECRET }, 'planted')
    // A ThoughtSpot answer that carries the session secret (a display name set upstream).
    stack.simulator.state.users.get('pat@acme.com')!.displayName = TEST_SESSION_SECRET
    const leaked = await stack.request
      .get('/ts/api/rest/2.0/auth/session/user')
      .set('Authorization', bearer)
    assert.equal(leaked.status, 200)

    const leaks = stack.leaks()
    assert.ok(
      leaks.some((leak) => leak.kind === 'secret' && leak.where.startsWith('log line')),
      JSON.stringify(leaks),
    )
    assert.ok(
      leaks.some(
        (leak) =>
          leak.kind === 'secret' &&
          leak.where === 'response to GET /ts/api/rest/2.0/auth/session/user',
      ),
      JSON.stringify(leaks),
    )
    // The hint names the value without repeating it.
    for (const leak of leaks) assert.ok(!leak.hint.includes(TEST_SESSION_SECRET.slice(4, -3)))
  })
})

describe('findLeaks', () => {
  const credentials = {
    secrets: ['secret-key-0123456789'],
    heldCredentials: ['eyJhbGciOi.jwt-of-a-user.sig', 'JSESSIONID-value-abc'],
    tokens: ['minted-token-abcdef0123'],
  }
  const response = (path: string, body: string) => ({ method: 'POST', path, head: '', body })

  it('allows a minted token only in the answer of /ts/auth/token, and never in a log line', () => {
    assert.deepEqual(
      findLeaks(
        credentials,
        [],
        [response('/ts/auth/token', '{"token":"minted-token-abcdef0123"}')],
      ),
      [],
    )
    const leaks = findLeaks(
      credentials,
      ['{"msg":"minted-token-abcdef0123"}'],
      [response('/ts/session', '{"token":"minted-token-abcdef0123"}')],
    )
    assert.deepEqual(
      leaks.map((leak) => [leak.kind, leak.where]),
      [
        ['token', 'log line 1'],
        ['token', 'response to POST /ts/session'],
      ],
    )
  })

  it('finds secrets, JWTs and JSESSIONIDs anywhere, headers included', () => {
    const leaks = findLeaks(
      credentials,
      [],
      [
        {
          method: 'GET',
          path: '/ts/auth/token',
          head: 'Set-Cookie: JSESSIONID-value-abc',
          body: '',
        },
        response('/ts/auth/token', 'secret-key-0123456789 eyJhbGciOi.jwt-of-a-user.sig'),
      ],
    )
    assert.deepEqual(
      leaks.map((leak) => leak.kind),
      ['held credential', 'secret', 'held credential'],
    )
  })

  it('ignores values too short to mean anything', () => {
    assert.deepEqual(
      findLeaks({ secrets: ['abc'], heldCredentials: [], tokens: [''] }, ['abc'], []),
      [],
    )
  })
})

describe('the leak check of child processes', () => {
  it('fails stop() when a child printed a secret it was given by file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbff-leak-'))
    try {
      const keyFile = join(dir, 'key')
      writeFileSync(keyFile, 'planted-secret-from-a-file-123\n')
      const script = join(dir, 'leaky.mjs')
      writeFileSync(
        script,
        "import { readFileSync } from 'node:fs'\n" +
          'console.log(readFileSync(process.env.TS_SECRET_KEY_FILE, "utf8"))\n',
      )
      const child = spawnNode(script, scrubbedEnv({ TS_SECRET_KEY_FILE: keyFile }))
      await child.exited
      await assert.rejects(child.stop(), /leak check: a child process .*exposed credentials/s)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
