/**
 * Compression between the BFF and ThoughtSpot. The BFF asks ThoughtSpot for the codings it can
 * decode itself (gzip, deflate, br), and only those the browser accepts too: a binary body
 * (a report export) then streams through still compressed, in a coding the browser reads, while
 * a textual body (JSON, text/*) is decoded so that it can be scanned for credentials and goes to
 * the browser identity-encoded. A body is never rewritten under a `Content-Encoding` it no longer
 * matches.
 */
import type { Transform } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'

/** A content coding the BFF decodes. */
export type Coding = 'gzip' | 'deflate' | 'br'

const DECODABLE: readonly Coding[] = ['gzip', 'deflate', 'br']

/** What a response's `Content-Encoding` says about its body. */
export type BodyCoding =
  | { kind: 'identity' }
  | { kind: 'decodable'; coding: Coding }
  /** Another coding, or several stacked: the BFF cannot read the body. */
  | { kind: 'unreadable' }

function codingName(token: string): string {
  const name = token.trim().toLowerCase()
  return name === 'x-gzip' ? 'gzip' : name
}

/**
 * The `Accept-Encoding` to send ThoughtSpot for the browser's: the codings both the browser
 * accepts (q > 0, or through `*`) and the BFF decodes, in a fixed order; undefined when there are
 * none, so that ThoughtSpot answers identity-encoded.
 *
 * @example
 * upstreamAcceptEncoding('gzip, deflate, br, zstd') // 'gzip, deflate, br'
 * upstreamAcceptEncoding('zstd') // undefined
 */
export function upstreamAcceptEncoding(browser: string | string[] | undefined): string | undefined {
  if (browser === undefined) return undefined
  const weights = new Map<string, number>()
  for (const item of (Array.isArray(browser) ? browser.join(',') : browser).split(',')) {
    const [token = '', ...params] = item.split(';')
    const name = codingName(token)
    if (name === '') continue
    const q = params.map((param) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param)?.[1]).find(Boolean)
    weights.set(name, q === undefined ? 1 : Number(q))
  }
  const wildcard = weights.get('*') ?? 0
  const accepted = DECODABLE.filter((coding) => (weights.get(coding) ?? wildcard) > 0)
  return accepted.length > 0 ? accepted.join(', ') : undefined
}

/** Reads a response's `Content-Encoding`. */
export function bodyCoding(header: string | string[] | undefined): BodyCoding {
  const codings = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map(codingName)
    .filter((name) => name !== '' && name !== 'identity')
  if (codings.length === 0) return { kind: 'identity' }
  const [only] = codings
  if (codings.length === 1 && DECODABLE.includes(only as Coding)) {
    return { kind: 'decodable', coding: only as Coding }
  }
  return { kind: 'unreadable' }
}

/** A decoding stream for `coding` (deflate is the zlib format RFC 9110 defines). */
export function createDecoder(coding: Coding): Transform {
  switch (coding) {
    case 'gzip':
      return createGunzip()
    case 'deflate':
      return createInflate()
    case 'br':
      return createBrotliDecompress()
  }
}
