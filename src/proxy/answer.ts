/**
 * ThoughtSpot's answer to a proxied call, on its way back to the browser. Nothing the BFF
 * injected may flow back (the user's token, the held session's cookie values):
 *  - headers whose value carries it are dropped (`headers.ts`), whatever their name;
 *  - an error answer is read whole (bounded, decoded), scrubbed and sent (`error-body.ts`);
 *  - a session route's JSON is read whole and loses its credential fields (`session-body.ts`);
 *  - other textual bodies (JSON, text/*, untyped) stream through a mask that overwrites the
 *    credential in place (`credential-scan.ts`), decoded first when compressed;
 *  - binary bodies (report exports) stream untouched, still in their coding.
 * A 429 or a maintenance page becomes the BFF's own error (`upstream/answers.ts`).
 */
import type { IncomingMessage } from 'node:http'
import type { Transform } from 'node:stream'
import { pipeline } from 'node:stream'
import type { Response } from 'express'
import type { Logger } from '../observability/logger.js'
import {
  isHtmlType,
  isJsonType,
  maintenancePage,
  upstreamRateLimited,
} from '../upstream/answers.js'
import { bodyCoding, createDecoder, type BodyCoding } from './content-coding.js'
import { createCredentialMask, credentialForms, maskCredentials } from './credential-scan.js'
import { MAX_ERROR_BODY, omittedErrorBody, sanitizeErrorBody } from './error-body.js'
import { browserResponseHeaders, type OutgoingHeaders } from './headers.js'
import { isSessionRoute, MAX_SESSION_BODY, stripCredentialFields } from './session-body.js'
import { readWhole } from './whole-body.js'

/**
 * Bytes of a textual body scanned for the credential; the rest of a longer one streams on
 * unscanned. The scan costs under 1 ms of CPU per MB (`bench/credential-mask.ts`), so this bounds
 * it to tens of milliseconds per answer while covering any realistic JSON answer.
 */
export const MAX_SCANNED_BODY = 64 * 1024 * 1024

/**
 * A textual answer of at most this declared length (and no content coding) is read whole,
 * masked and sent in one write: for the usual small JSON answer that costs less than a
 * stream pipeline, and an upstream that breaks off mid-body becomes a clean 502.
 */
export const MAX_WHOLE_TEXT_BODY = 256 * 1024

/** What `sendAnswer` needs to know of the call and tells the forwarder. */
export interface AnswerHooks {
  /** Values that must not reach the browser (the token, the cookie values). */
  secrets: readonly string[]
  requestId: string
  /** The call's method and upstream path: HEAD has no body; session routes are stripped. */
  method: string
  path: string
  log: Logger
  /** The body is about to stream; the call stays in flight until `proxyRes` closes. */
  onStreaming(): void
  /** A whole body was sent; the call is done. */
  onSent(): void
}

/**
 * Sends ThoughtSpot's answer to the browser, or throws the BffError it stands for (429, a
 * maintenance page), before anything was written.
 */
export async function sendAnswer(
  proxyRes: IncomingMessage,
  res: Response,
  hooks: Readonly<AnswerHooks>,
): Promise<void> {
  const status = proxyRes.statusCode ?? 502
  const contentType = proxyRes.headers['content-type']
  if (status === 429) {
    proxyRes.resume()
    throw upstreamRateLimited(proxyRes.headers['retry-after'])
  }
  if (isHtmlType(contentType)) {
    proxyRes.resume()
    throw maintenancePage()
  }
  const forms = credentialForms(hooks.secrets)
  const headers = browserResponseHeaders(proxyRes.headers, forms)
  const coding = bodyCoding(proxyRes.headers['content-encoding'])
  const answer = { proxyRes, res, hooks, status, headers, coding }
  if (status >= 400) return sendError(answer, isJsonType(contentType))
  if (isSessionRoute(hooks.path) && isJsonType(contentType)) {
    if (!hasNoBody(answer)) return sendSessionAnswer(answer)
    // HEAD, 204, 304: nothing to strip; the GET's length and validator would be the BFF's own.
    delete headers['content-length']
    delete headers.etag
  }
  if (!isBinaryType(contentType)) return streamText(answer, forms)
  return stream(answer, [])
}

interface Answer {
  proxyRes: IncomingMessage
  res: Response
  hooks: Readonly<AnswerHooks>
  status: number
  headers: OutgoingHeaders
  coding: BodyCoding
}

/** A typed body that is not text: exports (octet-stream, pdf, images, spreadsheets). */
function isBinaryType(contentType: string | undefined): boolean {
  if (contentType === undefined || isJsonType(contentType)) return false
  return !/^\s*text\//i.test(contentType)
}

async function sendError(answer: Answer, isJson: boolean): Promise<void> {
  const { hooks } = answer
  const read = await readWhole(answer.proxyRes, answer.coding, MAX_ERROR_BODY)
  if (!read.ok) {
    sendWhole(
      answer,
      answer.status,
      omittedErrorBody(hooks.requestId, read.why, answer.status),
      true,
    )
    return
  }
  const body = sanitizeErrorBody(read.body, hooks.secrets, isJson, hooks.requestId)
  sendWhole(answer, answer.status, body, false)
}

async function sendSessionAnswer(answer: Answer): Promise<void> {
  const { hooks } = answer
  const read = await readWhole(answer.proxyRes, answer.coding, MAX_SESSION_BODY)
  let body: Buffer | undefined
  let why = read.ok ? 'not valid JSON' : read.why
  if (read.ok) {
    try {
      const parsed = JSON.parse(read.body.toString('utf8')) as unknown
      body = Buffer.from(JSON.stringify(stripCredentialFields(parsed, hooks.secrets)))
    } catch {
      why = 'not valid JSON'
    }
  }
  if (body) sendWhole(answer, answer.status, body, false)
  else sendWhole(answer, 502, omittedErrorBody(hooks.requestId, why, answer.status), true)
}

/** Sends a body the BFF rewrote as a whole: identity-encoded, its own length, no validator. */
function sendWhole(answer: Answer, status: number, body: Buffer, stub: boolean): void {
  const { headers } = answer
  delete headers['content-encoding']
  delete headers.etag
  if (stub) headers['content-type'] = 'application/json; charset=utf-8'
  headers['content-length'] = String(body.length)
  answer.hooks.onSent()
  answer.res.writeHead(status, headers).end(body)
}

function hasNoBody(answer: Answer): boolean {
  const { status, hooks, proxyRes } = answer
  return (
    hooks.method === 'HEAD' ||
    status === 204 ||
    status === 304 ||
    proxyRes.headers['content-length'] === '0'
  )
}

/** The declared body length, or Infinity when none (chunked) or unreadable. */
function declaredLength(answer: Answer): number {
  const header = answer.proxyRes.headers['content-length']
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : Infinity
}

async function sendTextWhole(answer: Answer, forms: readonly string[]): Promise<void> {
  const { proxyRes, res, hooks } = answer
  const read = await readWhole(proxyRes, answer.coding, MAX_WHOLE_TEXT_BODY)
  if (!read.ok) throw new Error(`the answer could not be read: ${read.why}`)
  const masked = maskCredentials(read.body, forms)
  if (masked > 0) {
    hooks.log.warn(
      { event: 'proxy.credential_masked', count: masked },
      'ThoughtSpot echoed the injected credential; masked',
    )
  }
  hooks.onSent()
  if (res.destroyed) return
  // Same length as ThoughtSpot's (masking keeps it): its Content-Length and ETag stay true.
  res.writeHead(answer.status, answer.headers).end(read.body)
}

function streamText(answer: Answer, forms: readonly string[]): Promise<void> | void {
  const { coding, headers, hooks } = answer
  if (coding.kind === 'unreadable') {
    // Never let a textual body pass unscanned because its coding hides it.
    answer.proxyRes.resume()
    const body = omittedErrorBody(
      hooks.requestId,
      'in an encoding the BFF cannot read',
      answer.status,
    )
    sendWhole(answer, 502, body, true)
    return
  }
  if (coding.kind === 'identity' && declaredLength(answer) <= MAX_WHOLE_TEXT_BODY) {
    return sendTextWhole(answer, forms)
  }
  const steps: Transform[] = []
  if (coding.kind === 'decodable') {
    // Sent identity-encoded: the length is unknown until decoded, the validator becomes weak.
    delete headers['content-encoding']
    delete headers['content-length']
    const etag = headers.etag
    if (typeof etag === 'string' && !etag.startsWith('W/')) headers.etag = `W/${etag}`
    if (!hasNoBody(answer)) steps.push(createDecoder(coding.coding))
  }
  steps.push(
    createCredentialMask({
      forms,
      limit: MAX_SCANNED_BODY,
      onMasked: (count) =>
        hooks.log.warn(
          { event: 'proxy.credential_masked', count },
          'ThoughtSpot echoed the injected credential; masked',
        ),
    }),
  )
  stream(answer, steps)
}

function stream(answer: Answer, steps: readonly Transform[]): void {
  const { proxyRes, res } = answer
  answer.hooks.onStreaming()
  res.writeHead(answer.status, answer.headers)
  const done = (err: NodeJS.ErrnoException | null): void => {
    // ThoughtSpot broke off, or its body did not decode: end the browser's response too.
    if (err) res.destroy()
  }
  if (steps.length === 0) pipeline(proxyRes, res, done)
  else pipeline([proxyRes, ...steps, res], done)
}
