/**
 * The forwarder against a bare upstream that answers what the simulator never does: an error
 * body larger than the inspection limit that echoes the credential. It must become the short
 * stub, never a truncated copy of the original.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, it } from 'node:test'
import express from 'express'
import request from 'supertest'
import { createForwarder } from '../../src/proxy/forward.js'
import { requestId } from '../../src/http/request-id.js'
import { createLogger } from '../../src/observability/logger.js'
import { scopeOf } from '../../src/scope.js'
import { unlimitedBudget } from '../../src/upstream/budget.js'
import { createMetrics } from '../../src/observability/metrics.js'

const TOKEN = 'LEAKED-USER-TOKEN-123456'
let upstream: Server
let host: string

before(async () => {
  upstream = createServer((_req, res) => {
    const filler = 'x'.repeat(100 * 1024)
    res.writeHead(400, { 'content-type': 'application/json' })
    // Written in several chunks, as a real server would.
    const body = JSON.stringify({ error: { token: TOKEN, debug: `bad ${TOKEN}`, filler } })
    for (let i = 0; i < body.length; i += 16 * 1024) res.write(body.slice(i, i + 16 * 1024))
    res.end()
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const address = upstream.address()
  host = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})
after(() => new Promise((resolve) => upstream.close(resolve)))

it('replaces an oversized upstream error body by a stub without the credential', async () => {
  const credential = { headers: { authorization: `Bearer ${TOKEN}` }, secrets: [TOKEN] }
  const forward = createForwarder({
    host,
    timeoutMs: 2000,
    budget: unlimitedBudget,
    metrics: createMetrics(),
    credentials: { get: () => Promise.resolve(credential), drop: () => Promise.resolve() },
  })
  const app = express()
  app.use(requestId(createLogger({ level: 'silent' })))
  app.use((_req, res, next) => {
    const scope = scopeOf(res)
    scope.target = { family: 'v2', path: '/api/rest/2.0/searchdata', query: '' }
    scope.credential = credential
    next()
  })
  app.use(forward)
  const response = await request(app).get('/anything')
  assert.equal(response.status, 400)
  assert.equal(response.text.includes(TOKEN), false)
  assert.ok(response.text.length < 1024, `a short stub, not ${response.text.length} bytes`)
  assert.equal(response.body.error.code, 'UPSTREAM_ERROR')
  assert.equal(response.body.error.requestId, response.headers['x-request-id'])
  assert.match(response.body.error.message, /body omitted/)
})
