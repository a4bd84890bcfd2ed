/**
 * The proxy's two strip lists: which of the browser's request headers may reach ThoughtSpot,
 * and which of ThoughtSpot's response headers may reach the browser. The two bugs a BFF proxy
 * most likely ships are a forwarded `Cookie` and a missed credential header (Duende BFF fixed
 * both in 4.3.1), so the request side is an allowlist and both sides drop anything
 * credential-like by name, the response side by value too.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { upstreamAcceptEncoding } from './content-coding.js'
import { containsCredential } from './credential-scan.js'

/** Headers as `res.writeHead` / `http.request` take them; names are lower-case. */
export type OutgoingHeaders = Record<string, string | string[]>

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, never the next one. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
])

/**
 * The only browser headers forwarded upstream. Content negotiation, conditional and range
 * requests, and the request id; nothing that carries identity, origin or routing.
 *
 * `accept-encoding` is forwarded narrowed to the codings the BFF can decode itself
 * (`content-coding.ts`): the BFF must read textual answers to keep credentials out of them, so
 * it decodes those and sends them on identity-encoded, while binary ones stream through in the
 * coding the browser asked for. `content-encoding` is not forwarded: the body step decodes the
 * body it buffers.
 */
export const FORWARDED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'content-type',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'range',
  'user-agent',
  'x-request-id',
  'x-thoughtspot-client',
])

/**
 * `@thoughtspot/rest-api-sdk` names itself in `X-ThoughtSpot-Client` on every call. It identifies
 * the client library, carries no identity, and ThoughtSpot may use it for compatibility, so it
 * is the one `x-thoughtspot-*` header that passes, when its value is short and plain. Every other
 * `x-thoughtspot-*` header stays refused: `X-ThoughtSpot-Orgs`, for one, picks the org of a call,
 * which only the mapping may decide.
 */
const CLIENT_NAME_HEADER = 'x-thoughtspot-client'
const CLIENT_NAME = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/

/**
 * Request headers that must never pass, whatever {@link FORWARDED_REQUEST_HEADERS} says: the
 * allowlist already drops them, and this list keeps it so should someone widen the allowlist.
 * `x-csrf` and `x-requested-by` are the BFF's own; the forwarder sets what ThoughtSpot needs.
 */
const NEVER_FORWARDED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'authorization',
  'content-length',
  'cookie',
  'expect',
  'forwarded',
  'host',
  'origin',
  'referer',
  'x-csrf',
  'x-real-ip',
  'x-requested-by',
])
const NEVER_FORWARDED_PREFIXES = ['proxy-', 'x-forwarded-', 'x-thoughtspot-', 'x-callosum-']

/** Name fragments that mark a credential, in either direction (`x-auth-token`, `set-cookie`). */
const CREDENTIAL_FRAGMENTS = [
  'auth',
  'token',
  'cookie',
  'session',
  'secret',
  'password',
  'credential',
  'api-key',
  'apikey',
]

/**
 * Response headers the BFF owns: helmet's security headers and its own CORS and request id.
 * Upstream's would overwrite them on the browser's response.
 */
const BFF_OWNED_RESPONSE: ReadonlySet<string> = new Set([
  'content-security-policy',
  'content-security-policy-report-only',
  'cross-origin-embedder-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-request-id',
  'x-xss-protection',
])

/**
 * Response headers that would act on the BFF's origin in the browser (clear its storage, send its
 * errors or traffic elsewhere) or describe upstream's software.
 */
const NEVER_RETURNED: ReadonlySet<string> = new Set([
  'alt-svc',
  'clear-site-data',
  'expect-ct',
  'nel',
  'public-key-pins',
  'public-key-pins-report-only',
  'report-to',
  'reporting-endpoints',
  'server',
  'via',
  'x-powered-by',
])
const NEVER_RETURNED_PREFIXES = ['proxy-', 'access-control-']

/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** What Node accepts in a header value; CR, LF, NUL and other controls are outside it. */
const UNSAFE_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/

/** The request id shape the BFF accepts from a client; others are not forwarded. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * The browser's request headers that may be forwarded to ThoughtSpot.
 *
 * An allowlist ({@link FORWARDED_REQUEST_HEADERS}), not a denylist: a header we did not think of
 * (a new credential, a routing hint) is dropped by default, and ThoughtSpot needs nothing else
 * from the browser; the forwarder adds `Authorization`, `X-Requested-By` and the request id
 * itself. On top of that, and never overridden, every header the product contract names is
 * dropped: `Cookie`, `Authorization`, `Proxy-*`, hop-by-hop headers and every header named in
 * `Connection`, `X-Forwarded-*`, `Forwarded`, `X-Real-IP`, `Host`, `Content-Length` (the
 * forwarder sets it), `Origin`, `Referer`, `X-CSRF`, `X-Requested-By`, `Expect`,
 * `X-ThoughtSpot-*` (but `X-ThoughtSpot-Client`, the REST SDK's name), `X-Callosum-*` and any
 * name that looks like a credential. A header whose value holds CR, LF, NUL or another control
 * character is dropped whole, as is an `x-request-id` outside the accepted shape.
 * `Accept-Encoding` is narrowed to the codings the BFF decodes (see above).
 *
 * @example
 * upstreamRequestHeaders({ accept: 'application/json', cookie: '__Host-tsbff.sid=…' })
 * // { accept: 'application/json' }
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders): OutgoingHeaders {
  const out = filterHeaders(incoming, (name, value) => {
    if (name === CLIENT_NAME_HEADER) return typeof value === 'string' && CLIENT_NAME.test(value)
    if (!FORWARDED_REQUEST_HEADERS.has(name) || isNeverForwarded(name)) return false
    return name !== 'x-request-id' || (typeof value === 'string' && REQUEST_ID.test(value))
  })
  const acceptEncoding = upstreamAcceptEncoding(out['accept-encoding'])
  if (acceptEncoding === undefined) delete out['accept-encoding']
  else out['accept-encoding'] = acceptEncoding
  return out
}

/**
 * ThoughtSpot's response headers that may be returned to the browser.
 *
 * A denylist, unlike the request side: the response is the user's own call's result, and its
 * content headers (`content-type`, `content-disposition`, `content-encoding`, `etag`,
 * `cache-control`, ThoughtSpot's diagnostic `x-…` ids) must pass for downloads and caching to
 * work, while what must not pass falls in classes a name test catches. Dropped: any name that
 * looks like a credential (`Set-Cookie`, `Authorization`, `WWW-Authenticate`, `X-Auth-Token`,
 * `X-Callosum-Token`…), `Proxy-*`, hop-by-hop headers and every header named in `Connection`,
 * `Access-Control-*` (the BFF answers CORS itself), the security headers helmet sets, upstream's
 * `X-Request-Id`, `Server`, `X-Powered-By`, `Via`, and headers that would act on the BFF's origin
 * (`Alt-Svc`, `Clear-Site-Data`, `NEL`, `Report-To`…). A header whose value holds CR, LF, NUL or
 * another control character is dropped whole.
 *
 * Any header whose value carries the credential the BFF injected — in one of
 * `credentialForms` (`credential-scan.ts`), or percent-encoded — is dropped too, whatever its
 * name: a `Location` that hands the token back in its query, a diagnostic header echoing the
 * session cookie.
 *
 * `content-length` is kept, so a streamed body keeps its length, except beside a
 * `transfer-encoding`, where it is meaningless (RFC 9112 §6.3) and Node frames the body itself.
 */
export function browserResponseHeaders(
  upstream: IncomingHttpHeaders,
  credentialForms: readonly string[] = [],
): OutgoingHeaders {
  const chunked = upstream['transfer-encoding'] !== undefined
  return filterHeaders(upstream, (name, value) => {
    if (
      (Array.isArray(value) ? value : [value]).some((item) =>
        containsCredential(item, credentialForms),
      )
    ) {
      return false
    }
    if (name === 'content-length') return !chunked
    return !isNeverReturned(name)
  })
}

function isNeverForwarded(name: string): boolean {
  return (
    NEVER_FORWARDED.has(name) ||
    NEVER_FORWARDED_PREFIXES.some((prefix) => name.startsWith(prefix)) ||
    looksLikeCredential(name)
  )
}

function isNeverReturned(name: string): boolean {
  return (
    BFF_OWNED_RESPONSE.has(name) ||
    NEVER_RETURNED.has(name) ||
    NEVER_RETURNED_PREFIXES.some((prefix) => name.startsWith(prefix)) ||
    looksLikeCredential(name)
  )
}

function looksLikeCredential(name: string): boolean {
  return CREDENTIAL_FRAGMENTS.some((fragment) => name.includes(fragment))
}

/**
 * Copies the headers `keep` accepts, after the rules both directions share: valid names only,
 * no hop-by-hop header, no header named in `Connection`, no unsafe value. Multi-value headers
 * stay arrays; two names differing only in case are merged.
 */
function filterHeaders(
  headers: IncomingHttpHeaders,
  keep: (name: string, value: string | string[]) => boolean,
): OutgoingHeaders {
  const connectionNamed = namesInConnection(headers)
  const out: OutgoingHeaders = {}
  for (const [rawName, value] of Object.entries(headers)) {
    if (value === undefined || !HEADER_NAME.test(rawName)) continue
    const name = rawName.toLowerCase()
    if (HOP_BY_HOP.has(name) || connectionNamed.has(name)) continue
    if (!isSafeValue(value) || !keep(name, value)) continue
    append(out, name, value)
  }
  return out
}

/** Header names listed in `Connection`: hop-by-hop by declaration (RFC 9110 §7.6.1). */
function namesInConnection(headers: IncomingHttpHeaders): Set<string> {
  const names = new Set<string>()
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'connection' || value === undefined) continue
    for (const line of Array.isArray(value) ? value : [value]) {
      for (const token of line.split(',')) {
        const trimmed = token.trim().toLowerCase()
        if (trimmed) names.add(trimmed)
      }
    }
  }
  return names
}

function isSafeValue(value: string | string[]): boolean {
  return (Array.isArray(value) ? value : [value]).every((item) => !UNSAFE_VALUE_CHAR.test(item))
}

function append(out: OutgoingHeaders, name: string, value: string | string[]): void {
  const existing = out[name]
  const added = Array.isArray(value) ? [...value] : value
  if (existing === undefined) out[name] = added
  else out[name] = [...toArray(existing), ...toArray(added)]
}

function toArray(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value]
}
