/**
 * The small HTTP vocabulary the handlers share: what a handler returns (`Answer`), how it fails
 * (`SimError`), ThoughtSpot's error bodies, and the request context.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { RecordedCall, SimulatorState } from './state.js'

/** What a handler gives back; the server writes it and records its status. */
export interface Answer {
  status: number
  headers: Record<string, string | string[]>
  body?: Buffer
  /** Write the body in several chunks, so a proxy in between has to stream it. */
  chunked?: boolean
  /** Announce the whole body's length, send half of it, then drop the connection. */
  cutOff?: boolean
}

/** A refusal with ThoughtSpot's status; `debug` never contains anything from the request. */
export class SimError extends Error {
  readonly status: number
  readonly headers: Record<string, string>

  constructor(status: number, debug: string, headers: Record<string, string> = {}) {
    super(debug)
    this.name = 'SimError'
    this.status = status
    this.headers = headers
  }
}

/** Everything a handler may look at. */
export interface Context {
  req: IncomingMessage
  call: RecordedCall
  state: SimulatorState
  query: URLSearchParams
  cookies: Map<string, string>
}

/** An endpoint: reads the context, returns the answer or throws `SimError`. */
export type Handler = (ctx: Context) => Answer

/** One row of the route table. */
export interface Route {
  method: 'GET' | 'POST'
  path: string
  handle: Handler
}

/** Base paths of REST v2 and of REST v1 (v1 public calls add `/tspublic/v1`). */
export const V2 = '/api/rest/2.0'
export const V1 = '/callosum/v1'

/** A JSON answer. */
export function json(
  body: unknown,
  status = 200,
  headers: Record<string, string | string[]> = {},
): Answer {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  }
}

/** A text answer with the given content type. */
export function text(body: string, contentType: string, status = 200): Answer {
  return { status, headers: { 'content-type': contentType }, body: Buffer.from(body) }
}

/** An answer without a body (204 unless told). */
export function empty(status = 204, headers: Record<string, string | string[]> = {}): Answer {
  return { status, headers }
}

/** ThoughtSpot's error codes by status. */
function errorCode(status: number): number {
  if (status === 401) return 10097
  if (status === 403) return 10023
  if (status >= 500 || status === 429) return 10038
  return 10002
}

/**
 * The error body ThoughtSpot sends: REST v2's nested `error.message`, or v1's flat object whose
 * `debug` is a JSON-encoded array of strings.
 */
export function errorAnswer(path: string, status: number, debug: string): Answer {
  const ids = { incident_id_guid: randomUUID(), trace_id_guid: randomUUID() }
  const code = errorCode(status)
  const body = path.startsWith(`${V1}/`)
    ? { code, ...ids, debug: JSON.stringify([debug]) }
    : { error: { message: { code, ...ids, debug } } }
  return json(body, status)
}

/** The media type of a content-type header, lower-cased, without parameters. */
export function mediaType(value: string | string[] | undefined): string {
  const raw = Array.isArray(value) ? (value[0] ?? '') : (value ?? '')
  return (raw.split(';')[0] ?? '').trim().toLowerCase()
}

/** Whether a media type is JSON (`application/json` or `application/*+json`). */
export function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

/** The media type of HTML form bodies, which REST v1 uses. */
export const FORM_TYPE = 'application/x-www-form-urlencoded'

/** Form fields; the first value wins, as in a servlet's getParameter. */
export function parseForm(raw: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const [key, value] of new URLSearchParams(raw)) {
    if (!Object.hasOwn(fields, key)) fields[key] = value
  }
  return fields
}

/** Cookie header → name/value map; the first cookie of a name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim())
  }
  return cookies
}

/** The JSON body of a v2 call: 415 unless it was sent as JSON, 400 unless it is an object. */
export function jsonBody(ctx: Context): Record<string, unknown> {
  if (!isJsonType(mediaType(ctx.req.headers['content-type']))) {
    throw new SimError(415, 'Content-Type must be application/json')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(ctx.call.body.toString('utf8'))
  } catch {
    throw new SimError(400, 'The request body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SimError(400, 'The request body must be a JSON object')
  }
  return parsed as Record<string, unknown>
}

/** The form body of a v1 call: 415 when a body comes with another content type. */
export function formBody(ctx: Context): Record<string, string> {
  const type = mediaType(ctx.req.headers['content-type'])
  if (type === FORM_TYPE) return parseForm(ctx.call.body.toString('utf8'))
  if (ctx.call.body.length === 0 && type === '') return {}
  throw new SimError(415, `Content-Type must be ${FORM_TYPE}`)
}
