/**
 * Finding the credential the BFF injected (the user's ThoughtSpot token, the held session's
 * cookie values) in what ThoughtSpot sends back, so it never reaches the browser: in header
 * values, in streamed bodies (masked in place, across chunk boundaries) and in parsed JSON.
 */
import { Transform, type TransformCallback } from 'node:stream'

/**
 * Shorter values are not searched for: they would match ordinary text, and no token or session
 * id is that short.
 */
export const MIN_SECRET_LENGTH = 8

/** Key names that mark a credential in a JSON body (`authToken`, `secret_key`, `sessionId`…). */
export const CREDENTIAL_KEY = /token|secret|password|cookie|authorization|session|credential/i

/** What a masked credential becomes: one `*` per byte, so lengths and JSON stay valid. */
const MASK = 0x2a

/** Characters that Gson (ThoughtSpot's Java side) escapes by default as `\u00XX`. */
const HTML_SAFE = /[<>&=']/g

function usable(secrets: readonly string[]): string[] {
  return [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH)
}

/**
 * Every form in which `secrets` may appear in a text body: as is, JSON-escaped (`\/` for `/`;
 * Gson's `\u003d` for `=` and the other HTML-sensitive characters) and percent-encoded (in a
 * URL inside the body, with either case of hex digit). A plain base64url token or a hex session
 * id has exactly one form.
 */
export function credentialForms(secrets: readonly string[]): readonly string[] {
  const key = secrets.join('\u0000')
  const known = recentForms.get(key)
  if (known) return known
  const forms = formsOf(secrets)
  // The same user's credential comes back on every call: keep the last few hundred.
  if (recentForms.size >= RECENT_FORMS) recentForms.delete(recentForms.keys().next().value ?? '')
  recentForms.set(key, forms)
  return forms
}

/** Credentials whose forms are remembered (a Map in insertion order; the oldest go first). */
const RECENT_FORMS = 512
const recentForms = new Map<string, readonly string[]>()

function formsOf(secrets: readonly string[]): string[] {
  const forms = new Set<string>()
  for (const secret of usable(secrets)) {
    const json = JSON.stringify(secret).slice(1, -1)
    const htmlSafe = (text: string): string =>
      text.replace(HTML_SAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
    const encoded = encodeURIComponent(secret)
    for (const form of [
      secret,
      json,
      json.replaceAll('/', '\\/'),
      htmlSafe(json),
      htmlSafe(json).replaceAll('/', '\\/'),
      encoded,
      encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    ]) {
      forms.add(form)
    }
  }
  return [...forms]
}

/** Decodes `%XX` escapes where they are well formed and leaves everything else as it is. */
function percentDecoded(value: string): string {
  if (!value.includes('%')) return value
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run)
    } catch {
      return run
    }
  })
}

/**
 * True when a header value carries one of `secrets`, in any of its {@link credentialForms} or
 * percent-encoded in a way they do not list (a `Location` query built by another encoder).
 */
export function containsCredential(value: string, forms: readonly string[]): boolean {
  if (forms.length === 0) return false
  if (forms.some((form) => value.includes(form))) return true
  const decoded = percentDecoded(value)
  return decoded !== value && forms.some((form) => decoded.includes(form))
}

/** Replaces every one of `secrets` in `text` by `[redacted]` (for bodies rewritten as a whole). */
export function redactCredentials(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of usable(secrets)) out = out.split(secret).join('[redacted]')
  return out
}

/** A form to search for, and a byte it cannot occur without (`\\` or `%`), if any. */
interface Needle {
  bytes: Buffer
  marker: number | undefined
}

const MARKERS = [0x5c, 0x25] // `\` of a JSON escape, `%` of a percent-escape

function toNeedle(form: string): Needle {
  const bytes = Buffer.from(form, 'utf8')
  return { bytes, marker: MARKERS.find((marker) => bytes.includes(marker)) }
}

/**
 * Masks every occurrence of `needles` in `buf` in place; returns how many were masked. An escaped
 * form is searched for only when the chunk holds its marker byte at all: a one-byte search is far
 * cheaper than a pattern search, and most JSON holds neither `\` nor `%`.
 */
function maskIn(buf: Buffer, needles: readonly Needle[]): number {
  let masked = 0
  const present = new Map<number, boolean>()
  for (const { bytes, marker } of needles) {
    if (marker !== undefined) {
      if (!present.has(marker)) present.set(marker, buf.includes(marker))
      if (!present.get(marker)) continue
    }
    for (let at = buf.indexOf(bytes); at !== -1; at = buf.indexOf(bytes, at + bytes.length)) {
      buf.fill(MASK, at, at + bytes.length)
      masked++
    }
  }
  return masked
}

/** Masks every form of the credential in a whole body, in place; returns how many were masked. */
export function maskCredentials(buf: Buffer, forms: readonly string[]): number {
  return forms.length === 0 ? 0 : maskIn(buf, forms.map(toNeedle))
}

/** Options of {@link createCredentialMask}. */
export interface MaskOptions {
  /** Text forms of the credential to mask ({@link credentialForms}). */
  forms: readonly string[]
  /** Bytes scanned at most; the rest of a longer body streams on unscanned. */
  limit: number
  /** Called once per masked occurrence, e.g. to log that upstream echoed a credential. */
  onMasked?: (count: number) => void
}

/**
 * A stream that masks each occurrence of the credential's forms with `*`s of the same length, so
 * a `Content-Length` stays true and JSON stays valid. It holds back the last `longest form − 1`
 * bytes of each chunk until the next one arrives, so a credential split across two chunks is
 * still found; after `limit` bytes it passes the rest through untouched.
 */
export function createCredentialMask(options: Readonly<MaskOptions>): Transform {
  const needles = options.forms.map(toNeedle)
  const keep = Math.max(0, ...needles.map((needle) => needle.bytes.length)) - 1
  let carry: Buffer | undefined
  let scanned = 0
  const report = (count: number): void => {
    if (count > 0) options.onMasked?.(count)
  }

  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      if (needles.length === 0 || scanned >= options.limit) {
        if (carry) this.push(carry)
        carry = undefined
        callback(null, chunk)
        return
      }
      scanned += chunk.length
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk
      report(maskIn(buf, needles))
      const cut = Math.max(0, buf.length - keep)
      carry = cut < buf.length ? buf.subarray(cut) : undefined
      callback(null, cut > 0 ? buf.subarray(0, cut) : undefined)
    },
    flush(callback: TransformCallback): void {
      callback(null, carry)
    },
  })
}
