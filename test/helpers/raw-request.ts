/**
 * A request whose path goes on the wire exactly as written: supertest and fetch normalise `..`
 * and some escapes before sending, which would hide the traversal cases the BFF must refuse.
 */
import { request } from 'node:http'

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  json(): unknown
}

export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawResponse> {
  const url = new URL(baseUrl)
  const payload = body === undefined ? undefined : Buffer.from(body)
  const allHeaders = payload ? { ...headers, 'content-length': String(payload.length) } : headers
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: allHeaders, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const all = Buffer.concat(chunks)
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: all,
            json: () => JSON.parse(all.toString('utf8')) as unknown,
          })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
