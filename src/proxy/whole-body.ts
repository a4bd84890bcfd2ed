/**
 * Reading one of ThoughtSpot's answers whole, bounded and decoded, for the answers the BFF must
 * check as a whole before passing them on: error bodies and session-route JSON.
 */
import type { IncomingMessage } from 'node:http'
import { promisify } from 'node:util'
import { brotliDecompress, gunzip, inflate, type ZlibOptions } from 'node:zlib'
import type { BodyCoding, Coding } from './content-coding.js'

/** The body, or why it cannot be passed on (a phrase for the UPSTREAM_ERROR stub). */
export type WholeBody = { ok: true; body: Buffer; decoded: boolean } | { ok: false; why: string }

type Decode = (buf: Buffer, options: ZlibOptions) => Promise<Buffer>

const DECODE: Readonly<Record<Coding, Decode>> = {
  gzip: promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
}

/**
 * Reads `stream` whole: at most `limit` bytes as sent and, when `coding` is one the BFF decodes,
 * at most `limit` decoded bytes (a small compressed body cannot inflate past it).
 */
export async function readWhole(
  stream: IncomingMessage,
  coding: BodyCoding,
  limit: number,
): Promise<WholeBody> {
  if (coding.kind === 'unreadable') {
    stream.resume()
    return { ok: false, why: 'in an encoding the BFF cannot read' }
  }
  const raw = await readAtMost(stream, limit)
  if (raw.length > limit) return { ok: false, why: 'too large to check' }
  if (coding.kind === 'identity') return { ok: true, body: raw, decoded: false }
  if (raw.length === 0) return { ok: true, body: raw, decoded: true }
  try {
    const body = await DECODE[coding.coding](raw, { maxOutputLength: limit })
    return { ok: true, body, decoded: true }
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
      ? { ok: false, why: 'too large to check' }
      : { ok: false, why: 'its encoding does not decode' }
  }
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
