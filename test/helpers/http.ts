/**
 * What many integration tests send and check: the header a TLS terminator adds (the session
 * cookie is Secure), a bearer header, and the one error body shape of every refusal.
 */
import assert from 'node:assert/strict'
import type { Response } from 'supertest'

/** What a TLS terminator in front adds; the stack trusts one proxy, so cookies may be Secure. */
export const HTTPS: Readonly<Record<string, string>> = { 'X-Forwarded-Proto': 'https' }

/** `Authorization: Bearer <jwt>` as a header object. */
export function bearer(jwt: string): Record<string, string> {
  return { Authorization: `Bearer ${jwt}` }
}

/**
 * Asserts the error answer: `status`, JSON, exactly `{ error: { code, message, requestId } }`
 * with `code`, a non-empty message and the response's own request id.
 */
export function assertErrorShape(response: Response, status: number, code: string): void {
  assert.equal(response.status, status, `${response.status} ${response.text}`)
  assert.equal(response.headers['content-type']?.split(';')[0], 'application/json')
  const body = response.body as {
    error?: { code?: unknown; message?: unknown; requestId?: unknown }
  }
  assert.deepEqual(Object.keys(body), ['error'], JSON.stringify(body))
  assert.deepEqual(Object.keys(body.error ?? {}).sort(), ['code', 'message', 'requestId'])
  assert.equal(body.error?.code, code)
  assert.equal(typeof body.error?.message, 'string')
  assert.ok((body.error?.message as string).length > 0)
  assert.equal(typeof body.error?.requestId, 'string')
  assert.equal(body.error?.requestId, response.headers['x-request-id'])
}
