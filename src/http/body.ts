/**
 * Request bodies of proxied calls are read whole, up to `server.bodyLimit`, so that a retry after
 * an upstream 401 can send them again; a larger body is 413 PAYLOAD_TOO_LARGE. Any content type:
 * the bytes are forwarded as they came, after undoing a `Content-Encoding` (gzip, deflate, br).
 *
 * A body that is too large is never read to its end: the answer goes out as soon as the limit is
 * known to be passed (from `Content-Length`, before reading anything, or while reading), with
 * `Connection: close`, and Node closes the connection once the answer is written instead of
 * draining the rest. body-parser, which this replaces, read every remaining byte first, so a
 * client declaring a huge length and sending a trickle held the connection for minutes.
 */
import type { Transform } from 'node:stream'
import type { NextFunction, Request, Response } from 'express'
import { BffError } from '../errors.js'
import { bodyCoding, createDecoder } from '../proxy/content-coding.js'

/** Refusals that leave unread bytes on the connection close it, so they are never parsed. */
const CLOSE = { headers: { Connection: 'close' } } as const

function tooLarge(): BffError {
  return new BffError('PAYLOAD_TOO_LARGE', 'The request body is larger than allowed.', CLOSE)
}

function unreadable(problem: string, cause?: unknown): BffError {
  return new BffError('BAD_REQUEST', `The request body could not be read: ${problem}.`, {
    ...CLOSE,
    cause,
  })
}

/**
 * Middleware for the start of `/ts/*`: a request whose `Content-Length` is above `limit` is
 * refused at once, before the session is loaded or any of its body is read.
 */
export function refuseDeclaredOversize(limit: number) {
  return function refuseDeclaredOversizeStep(
    req: Request,
    _res: Response,
    next: NextFunction,
  ): void {
    // Node's parser has already refused a Content-Length that is not a plain decimal number.
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > limit) throw tooLarge()
    next()
  }
}

/**
 * Middleware: `req.body` becomes the request's bytes (a Buffer; undefined when the request has
 * no body), decoded when it came with a `Content-Encoding`. Above `limit` — counted both as sent
 * and as decoded, so neither a decompression bomb nor an endless compressed stream gets through —
 * 413 PAYLOAD_TOO_LARGE; an unknown or broken encoding, or a body cut short, 400 BAD_REQUEST.
 */
export function readBody(limit: number) {
  return function readBodyStep(req: Request, _res: Response, next: NextFunction): void {
    if (
      req.headers['transfer-encoding'] === undefined &&
      req.headers['content-length'] === undefined
    ) {
      next()
      return
    }
    collect(req, decoderFor(req.headers['content-encoding']), limit).then((body) => {
      req.body = body
      next()
    }, next)
  }
}

/** The decoder for a request's `Content-Encoding`, or undefined for none. */
function decoderFor(header: string | undefined): Transform | undefined {
  const coding = bodyCoding(header)
  if (coding.kind === 'unreadable') {
    throw unreadable('its Content-Encoding is not one of gzip, deflate or br')
  }
  return coding.kind === 'decodable' ? createDecoder(coding.coding) : undefined
}

function collect(req: Request, decoder: Transform | undefined, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let sent = 0
    let kept = 0
    let done = false

    const finish = (err: BffError | undefined): void => {
      if (done) return
      done = true
      req.off('data', onSent)
      req.off('end', onEnd)
      req.off('close', onClose)
      if (decoder) {
        req.unpipe(decoder)
        decoder.off('data', onDecoded)
        decoder.on('error', () => undefined) // a late complaint of a decoder we are done with
        decoder.destroy()
      }
      if (!err) {
        resolve(Buffer.concat(chunks, kept))
        return
      }
      // Stop reading: what is left stays unread, and the error's Connection: close ends it.
      req.pause()
      reject(err)
    }
    const onSent = (chunk: Buffer): void => {
      sent += chunk.length
      if (sent > limit) finish(tooLarge())
      else if (!decoder) keep(chunk)
    }
    const onDecoded = (chunk: Buffer): void => keep(chunk)
    const keep = (chunk: Buffer): void => {
      kept += chunk.length
      if (kept > limit) finish(tooLarge())
      else chunks.push(chunk)
    }
    const onEnd = (): void => {
      if (!decoder) finish(undefined)
    }
    const onClose = (): void => {
      if (!req.complete) finish(unreadable('the connection closed before it was complete'))
    }

    req.on('data', onSent)
    req.on('end', onEnd)
    req.on('close', onClose)
    if (decoder) {
      decoder.on('data', onDecoded)
      decoder.once('end', () => finish(undefined))
      decoder.once('error', (err) =>
        finish(unreadable('its Content-Encoding does not decode', err)),
      )
      req.pipe(decoder)
    }
  })
}
