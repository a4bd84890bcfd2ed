/**
 * The leak check every test stack (and every child process the tests start) runs when it stops:
 * no credential may appear where the BFF must never put it. Which values count, and where each
 * is allowed:
 *
 * - the trusted-auth secret key(s), the session secrets and the HS256 identity secret: nowhere —
 *   no log line, no response header or body;
 * - app JWTs the test signed and JSESSIONIDs the simulator issued: nowhere either (the BFF reads
 *   a JWT and holds a v1 cookie, it never hands either back or writes it down);
 * - ThoughtSpot tokens the simulator minted: never in a log line; in a response only from
 *   `/ts/auth/token`, whose job is to hand the browser its own token.
 *
 * Values shorter than {@link MIN_SECRET_LENGTH} are ignored: they would match by chance.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

/** Shorter values are not looked for. */
export const MIN_SECRET_LENGTH = 12
/** Each response body is kept up to this size; the check reads what was kept. */
const MAX_KEPT_BODY = 4 * 1024 * 1024

/** One response the BFF sent, as the client received it (raw header block, body bytes). */
export interface SentResponse {
  method: string
  path: string
  head: string
  body: string
}

/** What to look for. */
export interface Credentials {
  /** Never anywhere. */
  secrets: readonly string[]
  /** Never anywhere (JWTs, JSESSIONIDs). */
  heldCredentials: readonly string[]
  /** Never in a log line; in a response only from `/ts/auth/token`. */
  tokens: readonly string[]
}

/** Where a credential turned up. */
export interface Leak {
  kind: 'secret' | 'held credential' | 'token'
  where: string
  /** The first and last characters of the value, enough to find it, not enough to use it. */
  hint: string
}

const hint = (value: string): string => `${value.slice(0, 4)}…${value.slice(-3)}`

function usable(values: readonly string[]): string[] {
  return [...new Set(values)].filter((value) => value.length >= MIN_SECRET_LENGTH)
}

/** Every leak of `credentials` in `logs` (raw lines) and `responses`. */
export function findLeaks(
  credentials: Credentials,
  logs: readonly string[],
  responses: readonly SentResponse[],
): Leak[] {
  const leaks: Leak[] = []
  const everywhere = [
    ...usable(credentials.secrets).map((value) => ({ kind: 'secret' as const, value })),
    ...usable(credentials.heldCredentials).map((value) => ({
      kind: 'held credential' as const,
      value,
    })),
  ]
  const tokens = usable(credentials.tokens)

  logs.forEach((line, index) => {
    for (const { kind, value } of everywhere)
      if (line.includes(value))
        leaks.push({ kind, where: `log line ${index + 1}`, hint: hint(value) })
    for (const value of tokens)
      if (line.includes(value))
        leaks.push({ kind: 'token', where: `log line ${index + 1}`, hint: hint(value) })
  })
  for (const response of responses) {
    const text = `${response.head}\n${response.body}`
    const where = `response to ${response.method} ${response.path}`
    for (const { kind, value } of everywhere)
      if (text.includes(value)) leaks.push({ kind, where, hint: hint(value) })
    if (response.path === '/ts/auth/token') continue
    for (const value of tokens)
      if (text.includes(value)) leaks.push({ kind: 'token', where, hint: hint(value) })
  }
  return leaks
}

/** Throws one error listing every leak (none: returns). */
export function assertNoLeaks(leaks: readonly Leak[], what: string): void {
  if (leaks.length === 0) return
  const lines = leaks.slice(0, 20).map((leak) => `  ${leak.kind} ${leak.hint} in ${leak.where}`)
  if (leaks.length > 20) lines.push(`  … and ${leaks.length - 20} more`)
  throw new Error(`leak check: ${what} exposed credentials:\n${lines.join('\n')}`)
}

/**
 * Records every response `server` sends: the header block exactly as written to the socket and
 * the body bytes (whatever wrote them: express, the proxy's pipe, an error handler).
 */
export function recordResponses(server: Server): SentResponse[] {
  const sent: SentResponse[] = []
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    let kept = 0
    const keep = (chunk: unknown, encoding?: unknown): void => {
      // write() and end() take a string or bytes first; anything else is a callback or nothing.
      const buffer =
        typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk)
            : null
      if (buffer === null) return
      if (kept >= MAX_KEPT_BODY) return
      chunks.push(buffer)
      kept += buffer.length
    }
    const write = res.write.bind(res) as (...args: unknown[]) => boolean
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1])
      return write(...args)
    }) as ServerResponse['write']
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1])
      return end(...args)
    }) as ServerResponse['end']
    res.once('close', () => {
      // Read when done: by then an absolute-form target has become the origin form.
      const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? ''
      const path = url.split('?')[0] ?? ''
      // The header block as sent: node keeps it on the response once written (`_header`).
      const head = (res as unknown as { _header?: string | null })._header ?? ''
      sent.push({
        method: req.method ?? '',
        path,
        head,
        body: Buffer.concat(chunks).toString('latin1'),
      })
    })
  })
  return sent
}
