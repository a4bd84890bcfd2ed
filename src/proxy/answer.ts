/**
 * ThoughtSpot's answer to a proxied call, on its way back to the browser. A 2xx streams through
 * with the safe headers; an error answer is read (bounded), scrubbed of the user's credential and
 * sent whole; a 429 or a maintenance page becomes the BFF's own error (`upstream/answers.ts`).
 */
import type { IncomingMessage } from 'node:http'
import type { Response } from 'express'
import {
  isHtmlType,
  isJsonType,
  maintenancePage,
  upstreamRateLimited,
} from '../upstream/answers.js'
import { MAX_ERROR_BODY, sanitizeErrorBody } from './error-body.js'
import { browserResponseHeaders } from './headers.js'

/** What `sendAnswer` tells the forwarder about the browser's response. */
export interface AnswerHooks {
  /** Values that must not reach the browser (the token, the cookie values). */
  secrets: readonly string[]
  requestId: string
  /** The body is about to stream; the call stays in flight until `proxyRes` closes. */
  onStreaming(): void
  /** A whole (error) body was sent; the call is done. */
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
  const headers = browserResponseHeaders(proxyRes.headers)
  if (status >= 400) {
    const body = sanitizeErrorBody(
      await readAtMost(proxyRes, MAX_ERROR_BODY),
      hooks.secrets,
      isJsonType(contentType),
      hooks.requestId,
    )
    headers['content-length'] = String(body.length)
    hooks.onSent()
    res.writeHead(status, headers).end(body)
    return
  }
  hooks.onStreaming()
  proxyRes.once('close', () => {
    // ThoughtSpot broke off mid-body: end the browser's response too rather than hang it.
    if (!proxyRes.complete) res.destroy()
  })
  res.writeHead(status, headers)
  proxyRes.pipe(res)
}

/** Reads a body, keeping at most `limit + 1` bytes: enough to see that it was too large. */
function readAtMost(stream: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let kept = 0
    stream.on('data', (chunk: Buffer) => {
      const room = limit + 1 - kept
      if (room <= 0) return
      const part = chunk.subarray(0, room)
      chunks.push(part)
      kept += part.length
    })
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}
