/**
 * Shared set-up of the simulator tests: a simulator per test (closed by t.after), small fetch
 * wrappers, and the mint / login steps most tests start from.
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import type { TestContext } from 'node:test'
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/server.js'

export const SECRET = 'sim-test-secret-7f3a91'
export const V2 = '/api/rest/2.0'
export const V1 = '/callosum/v1/tspublic/v1'
export const T0 = 1_700_000_000_000

/** A controllable clock for expiry tests. */
export function fakeClock() {
  let now = T0
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

export async function start(
  t: TestContext,
  options: Partial<SimulatorOptions> = {},
): Promise<Simulator> {
  const sim = await startSimulator({ secretKey: SECRET, quiet: true, ...options })
  t.after(() => sim.close())
  return sim
}

export function post(
  sim: Simulator,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return fetch(sim.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

export function get(sim: Simulator, path: string, headers: Record<string, string> = {}) {
  return fetch(sim.url + path, { headers })
}

export function postForm(sim: Simulator, path: string, fields: Record<string, string>, query = '') {
  return fetch(`${sim.url}${path}${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-by': 'test' },
    body: new URLSearchParams(fields).toString(),
  })
}

/** A GET whose path goes on the wire unchanged (fetch would normalise dot segments). */
export function rawGet(sim: Simulator, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(sim.url)
    const req = request({ hostname, port, path }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode ?? 0))
    })
    req.once('error', reject)
    req.end()
  })
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export async function mintFull(sim: Simulator, fields: Record<string, unknown> = {}) {
  const res = await post(sim, `${V2}/auth/token/full`, {
    username: 'alice',
    secret_key: SECRET,
    auto_create: true,
    ...fields,
  })
  assert.equal(res.status, 200)
  return (await res.json()) as { token: string; expiration_time_in_millis: number }
}

/** The ThoughtSpot v2 error code of a response. */
export async function errorCode(res: Response): Promise<number> {
  const body = (await res.json()) as { error: { message: { code: number } } }
  return body.error.message.code
}

export async function v1Token(sim: Simulator, fields: Record<string, string> = {}) {
  const res = await postForm(sim, `${V1}/session/auth/token`, {
    secret_key: SECRET,
    username: 'alice',
    access_level: 'FULL',
    autocreate: 'true',
    ...fields,
  })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
  return res.text()
}

export async function login(sim: Simulator, token: string): Promise<string> {
  const res = await postForm(sim, `${V1}/session/login/token`, {
    username: 'alice',
    auth_token: token,
    no_url_redirection: 'true',
  })
  assert.equal(res.status, 204)
  const cookies = res.headers.getSetCookie()
  assert.ok(cookies.some((c) => /^JSESSIONID=[^;]+; Path=\/; HttpOnly$/.test(c)))
  assert.ok(cookies.some((c) => /^clientId=[^;]+; Path=\/; Secure; HttpOnly$/.test(c)))
  return cookies.map((cookie) => cookie.split(';')[0]).join('; ')
}

export const v1Headers = (cookie: string) => ({ cookie, 'x-requested-by': 'ThoughtSpot' })
