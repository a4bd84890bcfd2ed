/**
 * A TCP connection to the BFF that writes bytes exactly as given, for what no HTTP client sends:
 * a body shorter than its Content-Length, a head that never ends, an absolute-form target. It
 * reads everything the server answers until the server closes the connection.
 */
import { connect, type Socket } from 'node:net'

/** What came back on the connection, and how it ended. */
export interface RawExchange {
  /** Every byte the server sent, as text. */
  text: string
  /** The status of the first response, or 0 when none came. */
  status: number
  /** The server ended or reset the connection (false only if `close()` came first). */
  closedByServer: boolean
  /** The socket error that ended it, e.g. ECONNRESET, if any. */
  error: string | undefined
}

/** An open raw connection: write to it, then wait for the server to close it. */
export interface RawConnection {
  socket: Socket
  /** Writes bytes; resolves once they are handed to the kernel (false once the socket ended). */
  write(data: string | Buffer): Promise<boolean>
  /** True once the server sent anything. */
  answered(): boolean
  /** Resolves when the connection is closed, by the server or by `close()`. */
  closed: Promise<RawExchange>
  /** Closes from our side (what a test does when it gives up). */
  close(): void
}

/** Opens a raw connection to `baseUrl`'s host and port. */
export async function openRaw(baseUrl: string): Promise<RawConnection> {
  const url = new URL(baseUrl)
  const socket = connect(Number(url.port), url.hostname)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const chunks: Buffer[] = []
  let error: string | undefined
  let closedByUs = false
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error = err.code ?? err.message
  })
  const closed = new Promise<RawExchange>((resolve) => {
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]
      resolve({ text, status: status ? Number(status) : 0, closedByServer: !closedByUs, error })
    })
  })
  return {
    socket,
    write: (data) =>
      new Promise((resolve) => {
        if (!socket.writable) {
          resolve(false)
          return
        }
        socket.write(data, (err) => resolve(!err))
      }),
    answered: () => chunks.length > 0,
    closed,
    close: () => {
      closedByUs = true
      socket.destroy()
    },
  }
}

/** The JSON body of the first response in `text` (Content-Length framed, as the BFF sends errors). */
export function firstJsonBody(text: string): unknown {
  const split = text.indexOf('\r\n\r\n')
  const head = text.slice(0, split)
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN)
  return JSON.parse(text.slice(split + 4, split + 4 + length)) as unknown
}

/** A header of the first response in `text`, lower-cased name; undefined when absent. */
export function firstHeader(text: string, name: string): string | undefined {
  const head = text.slice(0, text.indexOf('\r\n\r\n'))
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
  return line?.slice(line.indexOf(':') + 1).trim()
}
