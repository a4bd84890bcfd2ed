/**
 * Request bodies of proxied calls are read whole, up to `server.bodyLimit`, so that a retry after
 * an upstream 401 can send them again; a larger body is 413 PAYLOAD_TOO_LARGE. Any content type:
 * the bytes are forwarded as they came.
 */
import express, { type RequestHandler } from 'express'

/** Middleware: `req.body` becomes the request's bytes (a Buffer), or 413 above `limit`. */
export function readBody(limit: number): RequestHandler {
  return express.raw({ type: () => true, limit })
}
