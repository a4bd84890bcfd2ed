/**
 * The proxied path's one gate: decode once, refuse anything that a server behind us could read
 * differently from how we read it, and hand back the single string that is both matched against
 * the allowlist and forwarded.
 */
import { BffError } from '../errors.js'

/** Longest raw path accepted, in characters; longer ones are refused before any work. */
export const MAX_PATH_LENGTH = 2048

/**
 * What a decoded path may contain: RFC 3986 unreserved characters, the sub-delimiters but `;`, and
 * `:` `@` `/`. Every one of them is a valid `pchar`, so none needs escaping again.
 */
const SAFE_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]$/

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/

/** `fatal` makes invalid UTF-8 (overlong forms, surrogates, stray bytes) throw instead of U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Normalises the raw tail of a proxied URL (after `/ts`, before `?`) or refuses it.
 *
 * The raw path is percent-decoded exactly once, then every character and segment is checked.
 * Refused with `BffError('BAD_PATH')`, and so never matched nor forwarded:
 * - an empty path, one not starting with `/`, or one longer than {@link MAX_PATH_LENGTH};
 * - a malformed escape (`%zz`, `%4`, a lone `%`), an encoded slash or backslash (`%2f`, `%5c`);
 * - invalid UTF-8 after decoding (`%c0%ae`, `%ff`, surrogates);
 * - a `%` left after decoding (double encoding such as `%252e`, or any encoded `%`);
 * - control characters (C0, DEL, C1), whitespace, a backslash, `;`, `?` or `#`;
 * - any non-ASCII character: ThoughtSpot's paths and GUIDs are ASCII, and refusing the rest keeps
 *   out look-alikes (`%ef%bc%8e`, a fullwidth dot) and bidi controls (`%e2%80%ae`);
 * - any other character outside `A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , = : @`;
 * - an empty segment (`//`, a trailing `/`) or a segment made only of dots (`.`, `..`, `...`).
 *
 * The value returned is the canonical encoding of the decoded path: each segment re-encoded, with
 * every RFC 3986 `pchar` left as it is. Since only such characters pass the checks, the result is
 * the decoded path itself (`/api/%41` becomes `/api/A`) and holds no `%` at all, so a server that
 * decodes it once more, or not at all, reads the same path we matched.
 *
 * Error messages name the problem, and at most one offending character as `U+XXXX`; they never
 * echo the path.
 *
 * @example
 * normalizeProxyPath('/api/rest/2.0/metadata/%73earch') // '/api/rest/2.0/metadata/search'
 * normalizeProxyPath('/api/rest/2.0/%2e%2e/auth/token/full') // throws BffError BAD_PATH
 */
export function normalizeProxyPath(rawTail: string): string {
  checkShape(rawTail)
  const decoded = decodeUtf8(percentDecode(rawTail))
  checkCharacters(decoded)
  checkSegments(decoded)
  return encodePath(decoded)
}

function badPath(problem: string): BffError {
  return new BffError('BAD_PATH', `The proxied path is refused: ${problem}.`)
}

function checkShape(raw: string): void {
  if (raw.length === 0) throw badPath('it is empty')
  if (raw.length > MAX_PATH_LENGTH) {
    throw badPath(`it is longer than ${MAX_PATH_LENGTH} characters`)
  }
  if (!raw.startsWith('/')) throw badPath('it does not start with "/"')
}

/** Decodes `%XX` escapes once, into bytes. Raw characters must be ASCII, as on the wire. */
function percentDecode(raw: string): Uint8Array {
  const bytes: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i)
    if (code > 0x7f) throw badPath(`it contains a non-ASCII character (${codePoint(code)})`)
    if (code !== 0x25) {
      bytes.push(code)
      continue
    }
    const hex = raw.slice(i + 1, i + 3)
    if (!HEX_PAIR.test(hex)) throw badPath('it contains a malformed percent-escape')
    const byte = Number.parseInt(hex, 16)
    // Decoded here, a slash or backslash would split or join segments behind our back.
    if (byte === 0x2f || byte === 0x5c) throw badPath('it contains an encoded slash or backslash')
    bytes.push(byte)
    i += 2
  }
  return Uint8Array.from(bytes)
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw badPath('it does not decode to valid UTF-8')
  }
}

/** Checks every code point of the decoded path; the first problem found is reported. */
function checkCharacters(decoded: string): void {
  for (const char of decoded) {
    const problem = characterProblem(char)
    if (problem) throw badPath(`it contains ${problem} (${codePoint(char.codePointAt(0) ?? 0)})`)
  }
}

function characterProblem(char: string): string | undefined {
  if (SAFE_CHAR.test(char)) return undefined
  const code = char.codePointAt(0) ?? 0
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return 'a control character'
  if (/^\s$/u.test(char)) return 'whitespace'
  if (code > 0x7f) return 'a non-ASCII character'
  switch (char) {
    case '%':
      return 'a "%" after decoding (double encoding)'
    case '\\':
      return 'a backslash'
    case ';':
      return 'a ";" (path parameters)'
    case '?':
    case '#':
      return 'a "?" or "#" (encoded as %3f or %23)'
    default:
      return 'a character that is not allowed'
  }
}

function checkSegments(decoded: string): void {
  // A client whose base URL ends in a slash (`https://bff/ts/`) joins it with `/api/...` into
  // `/ts//api/...`: say so, since the generic message leaves the front-end developer guessing.
  if (/^\/\/(api|callosum)\//.test(decoded)) {
    throw badPath(
      'it starts with "//": the client\'s base URL probably ends in a slash; use ".../ts" without one',
    )
  }
  // Index 0 is the empty string before the leading '/'.
  for (const segment of decoded.split('/').slice(1)) {
    if (segment === '') throw badPath('it has an empty segment ("//" or a trailing "/")')
    // '.' and '..' are dot segments; '...' and longer are refused too: no ThoughtSpot path has them
    // and some servers trim trailing dots.
    if (/^\.+$/.test(segment)) throw badPath('it has a "." or ".." segment')
  }
}

/**
 * Re-encodes each segment, leaving RFC 3986 `pchar`s as they are. The checks above let only such
 * characters through, so today this returns its input; it stays so that the output is a canonical
 * encoding by construction should the safe set ever grow.
 */
function encodePath(decoded: string): string {
  return decoded.split('/').map(encodeSegment).join('/')
}

function encodeSegment(segment: string): string {
  let out = ''
  for (const char of segment) {
    out += SAFE_CHAR.test(char) ? char : encodeURIComponent(char)
  }
  return out
}

function codePoint(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
}
