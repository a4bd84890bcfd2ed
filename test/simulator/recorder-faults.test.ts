/**
 * The simulator over real HTTP: The recorder (raw bytes, paths, headers) and the fault switch.
 * Each test starts its own simulator and closes it (t.after).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  SECRET,
  V2,
  V1,
  start,
  post,
  get,
  postForm,
  rawGet,
  bearer,
  mintFull,
  errorCode,
} from './helpers.js'
import { GARBAGE_KINDS, startSimulator } from '../../src/simulator/server.js'

describe('recorder', () => {
  it('keeps raw bytes, raw path and query, lower-case headers, parsed JSON and forms', async (t) => {
    const sim = await start(t)
    const raw = Buffer.from([0x7b, 0xff, 0x00, 0x22, 0x7d])
    await fetch(`${sim.url}${V2}/searchdata?x=%20a&x=2`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Custom-Header': 'Value' },
      body: raw,
    })
    const [call] = sim.state.callsTo(`${V2}/searchdata`)
    assert.ok(call)
    assert.ok(call.body.equals(raw))
    assert.equal(call.json, undefined)
    assert.equal(call.query, 'x=%20a&x=2')
    assert.equal(call.headers['x-custom-header'], 'Value')
    assert.equal(call.status, 401)

    await post(sim, `${V2}/auth/token/full`, { username: 'alice', secret_key: SECRET })
    assert.deepEqual(sim.state.callsTo(/token\/full$/)[0]?.json, {
      username: 'alice',
      secret_key: SECRET,
    })
    await postForm(sim, `${V1}/session/auth/token`, { username: 'a b', groups: '["x"]' })
    assert.deepEqual(sim.state.callsTo('/session/auth/token')[0]?.form, {
      username: 'a b',
      groups: '["x"]',
    })
    await rawGet(sim, '/api/rest/2.0/%2e%2e/nowhere')
    const unknown = sim.state.callsTo('/nowhere')[0]
    assert.equal(unknown?.path, '/api/rest/2.0/%2e%2e/nowhere')
    assert.equal(unknown.status, 404)
    assert.deepEqual(
      sim.state.calls.map((c) => c.id),
      [1, 2, 3, 4],
    )
    sim.state.clearCalls()
    assert.equal(sim.state.calls.length, 0)
  })

  it('answers 405 for a known path with the wrong method and 413 above 5 MiB', async (t) => {
    const sim = await start(t)
    const wrong = await fetch(`${sim.url}${V2}/auth/token/full`)
    assert.equal(wrong.status, 405)
    const big = await fetch(`${sim.url}${V2}/auth/token/full`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(5 * 1024 * 1024 + 1, 0x20),
    })
    assert.equal(big.status, 413)
    assert.equal(sim.state.calls.at(-1)?.body.length, 5 * 1024 * 1024)
  })
})

describe('faults', () => {
  it("'down' drops the connection without an answer and is recorded with status 0", async (t) => {
    const sim = await start(t)
    sim.state.setFault({ mode: 'down' })
    await assert.rejects(fetch(`${sim.url}${V2}/auth/session/user`))
    assert.equal(sim.state.calls[0]?.status, 0)
    sim.state.clearFault()
    assert.equal((await fetch(`${sim.url}${V2}/auth/session/user`)).status, 401)
  })

  it("'unauthorized', 'rateLimited', 'maintenance' and 'error' answer like ThoughtSpot", async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    const path = `${V2}/auth/session/user`
    sim.state.setFault({ mode: 'unauthorized' })
    const unauthorized = await get(sim, path, bearer(token))
    assert.equal(unauthorized.status, 401)
    assert.equal(await errorCode(unauthorized), 10097)

    sim.state.setFault({ mode: 'rateLimited', retryAfterSeconds: 7 })
    const limited = await get(sim, path, bearer(token))
    assert.equal(limited.status, 429)
    assert.equal(limited.headers.get('retry-after'), '7')
    await limited.body?.cancel()

    sim.state.setFault({ mode: 'maintenance' })
    const maintenance = await get(sim, path, bearer(token))
    assert.equal(maintenance.status, 200)
    assert.match(maintenance.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(await maintenance.text(), /Site Maintenance/)

    sim.state.setFault({ mode: 'error' })
    const failed = await get(sim, path, bearer(token))
    assert.equal(failed.status, 500)
    await failed.body?.cancel()
    assert.deepEqual(
      sim.state.callsTo(path).map((call) => call.status),
      [401, 429, 200, 500],
    )
    sim.state.clearFault()
    assert.equal((await get(sim, path, bearer(token))).status, 200)
  })

  it("'garbage' answers broken bodies, the kinds taking turns unless one is named", async (t) => {
    const sim = await start(t)
    const path = `${V2}/auth/session/user`
    sim.state.setFault({ mode: 'garbage' })
    const seen: string[] = []
    for (const kind of GARBAGE_KINDS) {
      const res = await fetch(sim.url + path)
      const type = res.headers.get('content-type') ?? ''
      if (kind === 'cut-off') {
        // The length announced is the whole body's; half of it comes, then the connection drops.
        assert.equal(res.status, 200)
        const announced = Number(res.headers.get('content-length'))
        assert.ok(announced > 0)
        await assert.rejects(res.arrayBuffer())
        seen.push(kind)
        continue
      }
      const body = Buffer.from(await res.arrayBuffer())
      const parses = (() => {
        try {
          JSON.parse(body.toString('utf8'))
          return true
        } catch {
          return false
        }
      })()
      if (kind === 'wrong-type') {
        assert.equal(res.status, 200)
        assert.match(type, /^text\/plain/)
        assert.equal(parses, true, 'the body is JSON, labelled as text')
      } else {
        assert.match(type, /^application\/json/, kind)
        assert.equal(parses, false, `${kind}: ${body.toString('latin1')}`)
        assert.equal(res.status, kind === 'error-not-json' ? 500 : 200, kind)
      }
      seen.push(kind)
    }
    assert.deepEqual(seen, [...GARBAGE_KINDS])
    // Every call was answered with garbage, recorded with the status it got.
    assert.deepEqual(
      sim.state.callsTo(path).map((call) => call.status),
      GARBAGE_KINDS.map((kind) => (kind === 'error-not-json' ? 500 : 200)),
    )

    sim.state.setFault({ mode: 'garbage', garbage: 'truncated-json' })
    for (let i = 0; i < 2; i++) {
      const res = await fetch(sim.url + path)
      const text = await res.text()
      assert.ok(text.startsWith('{"id":'), text)
      assert.throws(() => JSON.parse(text) as unknown)
    }
    sim.state.clearFault()
    assert.equal((await fetch(sim.url + path)).status, 401)
  })

  it("'times' limits a fault to the next N matching calls; 'paths' to matching paths", async (t) => {
    const sim = await start(t)
    const { token } = await mintFull(sim)
    sim.state.setFault({ mode: 'error', paths: /\/searchdata$/, times: 2 })
    const body = { logical_table_identifier: 't', query_string: 'q' }
    assert.equal((await get(sim, `${V2}/auth/session/user`, bearer(token))).status, 200)
    assert.equal((await post(sim, `${V2}/searchdata`, body, bearer(token))).status, 500)
    assert.equal((await post(sim, `${V2}/searchdata`, body, bearer(token))).status, 500)
    assert.equal((await post(sim, `${V2}/searchdata`, body, bearer(token))).status, 200)
    assert.equal(sim.state.fault, null)
  })

  it("'slow' waits before answering", async (t) => {
    const sim = await start(t)
    sim.state.setFault({ mode: 'slow', delayMs: 300 })
    const started = Date.now()
    const res = await get(sim, `${V2}/auth/session/user`)
    assert.equal(res.status, 401)
    assert.ok(Date.now() - started >= 290)
  })

  it("releaseSlowCalls() lets a call held by 'slow' go on to its real answer", async (t) => {
    const sim = await start(t)
    sim.state.setFault({ mode: 'slow', delayMs: 600_000 })
    const pending = get(sim, `${V2}/auth/session/user`)
    while (sim.state.slowCalls.size === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    assert.equal(sim.state.releaseSlowCalls(), 1)
    assert.equal((await pending).status, 401)
    assert.equal(sim.state.slowCalls.size, 0)
  })

  it('close() resolves promptly with a slow call pending and keep-alive sockets open', async () => {
    const sim = await startSimulator({ secretKey: SECRET, quiet: true })
    await (await fetch(`${sim.url}/nowhere`)).text() // leaves a keep-alive socket
    sim.state.setFault({ mode: 'slow' })
    const pending = fetch(`${sim.url}${V2}/auth/session/user`).then(
      () => 'answered',
      () => 'dropped',
    )
    while (sim.state.calls.length < 2) await new Promise((resolve) => setTimeout(resolve, 5))
    await sim.close()
    // Had close() waited for the 30-second call, it would have been answered.
    assert.equal(await pending, 'dropped')
    assert.equal(sim.state.calls[1]?.status, 0)
  })
})
