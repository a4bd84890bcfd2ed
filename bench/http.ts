/**
 * A small node:http client for the bench's own calls (login, warm-up, storms, memory fills):
 * cheaper per request than fetch, and keep-alive through an agent the caller sizes.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http'

/** An answer with its body read as text. */
export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** Method, headers, body and agent of one call. */
export interface CallOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
  agent?: Agent
}

const defaultAgent = new Agent({ keepAlive: true, maxSockets: 64 })

/** One HTTP call; resolves with status, headers and the body as text (never rejects on status). */
export function call(url: string, options: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body)
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        agent: options.agent ?? defaultAgent,
        headers: {
          ...options.headers,
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** Like `call`, but anything other than `expected` is an error naming the URL and the answer. */
export async function expectStatus(
  expected: number,
  url: string,
  options: CallOptions = {},
): Promise<Reply> {
  const reply = await call(url, options)
  if (reply.status !== expected) {
    throw new Error(
      `${options.method ?? 'GET'} ${url}: expected ${expected}, got ${reply.status} ${reply.body.slice(0, 200)}`,
    )
  }
  return reply
}

/** Closes the shared agent's idle sockets so the bench can exit. */
export function closeDefaultAgent(): void {
  defaultAgent.destroy()
}
