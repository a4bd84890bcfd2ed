/**
 * The session cookie outside demo mode is a `__Host-` cookie (issue 8 §5): Secure, Path=/ and
 * no Domain, so a sibling subdomain cannot plant one; a cookie under the old name `tsbff.sid` is
 * simply not read (its user signs in again).
 */
import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { HTTPS, bearer } from '../helpers/http.js'
import { startStack, type Stack } from '../helpers/start.js'

let stack: Stack
before(async () => {
  stack = await startStack()
})
after(() => stack.close())

function setCookieOf(headers: Record<string, unknown>): string {
  const value = headers['set-cookie']
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : ''
  return typeof value === 'string' ? value : ''
}

it('login sets __Host-tsbff.sid: Secure, Path=/, no Domain', async () => {
  const response = await stack.request
    .post('/ts/session')
    .set(HTTPS)
    .set(bearer(await stack.jwt({ sub: 'alice@acme.com' })))
  assert.equal(response.status, 200)
  const cookie = setCookieOf(response.headers)
  assert.match(cookie, /^__Host-tsbff\.sid=/)
  const attributes = cookie
    .split(';')
    .slice(1)
    .map((part) => part.trim().toLowerCase())
  assert.ok(attributes.includes('secure'), cookie)
  assert.ok(attributes.includes('path=/'), cookie)
  assert.ok(!attributes.some((part) => part.startsWith('domain')), cookie)
})

it('the same session under the old name tsbff.sid is not read', async () => {
  const cookie = await stack.login({ sub: 'bob@acme.com' })
  assert.match(cookie, /^__Host-tsbff\.sid=/)
  const current = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', cookie)
  assert.equal(current.status, 200)
  const old = cookie.replace(/^__Host-tsbff\.sid=/, 'tsbff.sid=')
  const stale = await stack.request.get('/ts/session').set(HTTPS).set('Cookie', old)
  assert.equal(stale.status, 401)
})

it('logout clears the __Host- cookie with the attributes it was set with', async () => {
  const cookie = await stack.login({ sub: 'carol@acme.com' })
  const response = await stack.request
    .delete('/ts/session')
    .set(HTTPS)
    .set('Cookie', cookie)
    .set('X-CSRF', '1')
  assert.equal(response.status, 204)
  const cleared = setCookieOf(response.headers)
  assert.match(cleared, /^__Host-tsbff\.sid=;/)
  assert.match(cleared, /Path=\//)
  assert.match(cleared, /Secure/)
  assert.doesNotMatch(cleared, /Domain=/i)
})
