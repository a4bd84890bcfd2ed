/**
 * Audit lines (issue 9 §3): refused requests are recorded with code, status, route family, user
 * when known and client IP — for the codes that are decisions about a user (not for anonymous
 * probes or malformed input); a per-IP flood gives one line and a summary, not one line each;
 * `audit.destination` sends the lines to a file of their own, reopened on SIGHUP.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { waitFor } from '../helpers/child-process.js'
import { HTTPS } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'
import { storesWithFailingSessions } from '../helpers/stores.js'

const MAPPING = `
rules:
  - when: { claim: ok, equals: "yes" }
    groups: [embed_viewers]
  - when: { claim: status, equals: suspended }
    deny: true
`

type Line = Record<string, unknown>
const parsed = (stack: Stack): Line[] => stack.logs.map((line) => JSON.parse(line) as Line)
const auditLines = (stack: Stack, event = 'request.refused'): Line[] =>
  parsed(stack).filter((line) => line.audit === true && line.event === event)

describe('refused requests', () => {
  let stack: Stack
  before(async () => {
    stack = await startStack({ mapping: MAPPING })
  })
  after(() => stack.close())

  const bearer = async (claims: Record<string, unknown>) => ({
    Authorization: `Bearer ${await stack.jwt(claims)}`,
  })
  /** The audit line of the one request that answered with `requestId`. */
  const lineOf = (requestId: string | undefined): Line | undefined =>
    auditLines(stack).find((line) => line.requestId === requestId)

  it('records refusals that decide about a user, with code, route family, user and IP', async () => {
    const cases: [string, () => Promise<{ headers: Record<string, string>; status: number }>][] = [
      [
        'INVALID_TOKEN',
        async () => stack.request.get('/ts/session').set('Authorization', 'Bearer not.a.jwt'),
      ],
      [
        'NOT_MAPPED',
        async () => stack.request.get('/ts/auth/token').set(await bearer({ sub: 'nobody' })),
      ],
      [
        'DENIED',
        async () =>
          stack.request
            .get('/ts/auth/token')
            .set(await bearer({ sub: 'gone', ok: 'yes', status: 'suspended' })),
      ],
      [
        'ROUTE_NOT_ALLOWED',
        async () =>
          stack.request
            .post('/ts/api/rest/2.0/users/create')
            .set(await bearer({ sub: 'ann', ok: 'yes' }))
            .send({}),
      ],
      ['BAD_PATH', async () => stack.request.get('/ts/api/rest/2.0/a/..%2fsecret-path')],
    ]
    for (const [code, send] of cases) {
      const response = await send()
      const line = lineOf(response.headers['x-request-id'])
      assert.ok(line, `${code} is audited`)
      assert.equal(line.code, code)
      assert.equal(line.status, response.status)
      assert.equal(line.level, 'info')
      assert.equal(line.ip, '127.0.0.1')
      assert.match(String(line.route), /^\/ts\/(session|auth\/token|api\/rest\/2\.0\/\*)$/)
      assert.equal(typeof line.method, 'string')
    }
    const routeLine = auditLines(stack).find((line) => line.code === 'ROUTE_NOT_ALLOWED')
    assert.equal(routeLine?.username, 'ann')
    assert.equal(routeLine?.route, '/ts/api/rest/2.0/*')
    assert.equal(auditLines(stack).find((line) => line.code === 'NOT_MAPPED')?.username, 'nobody')
    assert.equal(
      auditLines(stack).find((line) => line.code === 'INVALID_TOKEN')?.username,
      undefined,
    )
    const text = JSON.stringify(auditLines(stack))
    assert.equal(text.includes('users/create'), false, 'never the raw path')
    assert.equal(text.includes('secret-path'), false)
  })

  it('records a CSRF refusal of a cookie session with its user', async () => {
    const cookie = await stack.login({ sub: 'csrf-user', ok: 'yes' })
    const response = await stack.request
      .post('/ts/api/rest/2.0/searchdata')
      .set(HTTPS)
      .set('Cookie', cookie)
      .send({})
    assert.equal(response.status, 403)
    const line = lineOf(response.headers['x-request-id'])
    assert.equal(line?.code, 'CSRF')
    assert.equal(line?.username, 'csrf-user')
  })

  it('leaves out anonymous probes, malformed input and unknown routes', async () => {
    const quiet = [
      await stack.request.get('/ts/session'), // UNAUTHENTICATED
      await stack.request.get('/nope'), // NOT_FOUND
      await stack.request
        .get('/ts/auth/token?objectId=not-a-guid')
        .set(await bearer({ sub: 'ann', ok: 'yes' })), // BAD_REQUEST
    ]
    assert.deepEqual(
      quiet.map((response) => response.status),
      [401, 404, 400],
    )
    for (const response of quiet) assert.equal(lineOf(response.headers['x-request-id']), undefined)
  })
})

it('gives a per-IP flood one audit line and a summary of the rest', async () => {
  const stack = await startStack({ config: { rateLimits: { perIpPerMinute: 2 } } })
  try {
    for (let i = 0; i < 30; i++) await stack.request.get('/ts/session')
    const refused = auditLines(stack).filter((line) => line.code === 'RATE_LIMITED')
    assert.equal(refused.length, 1)
    assert.equal(refused[0]?.ip, '127.0.0.1')
    stack.services.audit.flush()
    const [summary] = auditLines(stack, 'request.refused.suppressed')
    assert.equal(summary?.suppressed, 27)
    assert.deepEqual(summary?.top, [
      { code: 'RATE_LIMITED', route: '/ts/session', ip: '127.0.0.1', count: 27 },
    ])
    const metrics = await stack.request.get('/metrics')
    assert.match(metrics.text, /tsbff_audit_suppressed_total\{code="RATE_LIMITED"\} 27/)
  } finally {
    await stack.close()
  }
})

it('records a request refused because the session store is down (fail closed)', async () => {
  const healthy = await startStack()
  const down = await startStack({ stores: storesWithFailingSessions })
  try {
    const cookie = await healthy.login({ sub: 'store-user@acme.com' })
    const response = await down.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
    assert.equal(response.status, 503)
    const [line] = auditLines(down)
    assert.equal(line?.code, 'STORE_UNAVAILABLE')
    assert.equal(line?.status, 503)
  } finally {
    await down.close()
    await healthy.close()
  }
})

it('writes audit lines whatever LOG_LEVEL says', async () => {
  const stack = await startStack({ env: { LOG_LEVEL: 'error' } })
  try {
    const jwt = await stack.jwt({ sub: 'quiet@acme.com' })
    assert.equal(
      (await stack.request.get('/ts/auth/token').set('Authorization', `Bearer ${jwt}`)).status,
      200,
    )
    const lines = parsed(stack)
    assert.ok(lines.some((line) => line.event === 'token.minted' && line.audit === true))
    assert.equal(
      lines.some((line) => line.event === 'http.request'),
      false,
    )
  } finally {
    await stack.close()
  }
})

describe('audit.destination: a file', () => {
  let dir: string
  let file: string
  let stack: Stack
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsbff-audit-'))
    file = join(dir, 'audit.log')
    stack = await startStack({ config: { audit: { destination: file } } })
  })
  after(async () => {
    await stack.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const mint = async (sub: string) => {
    const jwt = await stack.jwt({ sub })
    const response = await stack.request.get('/ts/auth/token').set('Authorization', `Bearer ${jwt}`)
    assert.equal(response.status, 200)
  }
  const fileLines = (path: string): Line[] =>
    existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Line)
      : []
  const minted = (path: string, username: string): boolean =>
    fileLines(path).some((line) => line.event === 'token.minted' && line.username === username)

  it('appends the audit lines to the file, and only there', async () => {
    await mint('filed@acme.com')
    await waitFor(() => minted(file, 'filed@acme.com'), {
      timeoutMs: 10_000,
      what: 'the mint is in the audit file',
    })
    assert.equal(
      parsed(stack).some((line) => line.audit === true),
      false,
      'no audit line in the main log',
    )
    assert.ok(parsed(stack).some((line) => line.event === 'http.request'))
  })

  it('reopens the file on SIGHUP, after logrotate moved it away', async () => {
    const rotated = `${file}.1`
    await mint('before-rotate@acme.com')
    await waitFor(() => minted(file, 'before-rotate@acme.com'), {
      timeoutMs: 10_000,
      what: 'the first mint is written',
    })
    renameSync(file, rotated)
    stack.services.watch()
    try {
      process.kill(process.pid, 'SIGHUP')
      await waitFor(() => parsed(stack).some((line) => line.event === 'audit.reopened'), {
        timeoutMs: 10_000,
        what: 'the audit file is reopened',
      })
    } finally {
      stack.services.mapping.stop()
      stack.services.secrets.stop()
    }
    await mint('after-rotate@acme.com')
    await waitFor(() => minted(file, 'after-rotate@acme.com'), {
      timeoutMs: 10_000,
      what: 'the next mint is in the new file',
    })
    assert.ok(minted(rotated, 'before-rotate@acme.com'))
    assert.equal(minted(rotated, 'after-rotate@acme.com'), false)
  })
})

it('refuses to start when the audit file cannot be opened for appending', async () => {
  await assert.rejects(
    startStack({ config: { audit: { destination: '/nonexistent-dir/audit.log' } } }),
    /audit\.destination: cannot open \/nonexistent-dir\/audit\.log for appending \(ENOENT\)/,
  )
})
