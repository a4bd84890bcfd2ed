/**
 * Graceful closing of a listener: stop accepting connections, let the requests in flight finish,
 * and cut whatever is left at a deadline. A request that arrives meanwhile on a kept-alive
 * connection is still served, with `Connection: close`, and a connection is closed as soon as it
 * goes idle — else an idle keep-alive connection would hold the close up for
 * `server.keepAliveTimeoutMs`.
 */
import type { Server } from 'node:http'

/** How often idle connections are closed while draining. */
const IDLE_SWEEP_MS = 100

/** A listener's request count and its graceful close. */
export interface Drain {
  /** Requests being served now. */
  inFlight(): number
  /**
   * Stops accepting and resolves once every connection has ended; requests still running after
   * `timeoutMs` are cut (`cut` counts them).
   */
  close(timeoutMs: number): Promise<{ cut: number }>
}

/** Starts counting `server`'s requests; call it before the server serves any. */
export function trackForDrain(server: Server): Drain {
  let inFlight = 0
  let draining = false
  server.prependListener('request', (_req, res) => {
    inFlight++
    res.once('close', () => inFlight--)
    if (draining && !res.headersSent) res.setHeader('connection', 'close')
  })
  let closing: Promise<{ cut: number }> | undefined
  return {
    inFlight: () => inFlight,
    close(timeoutMs) {
      closing ??= new Promise((resolve) => {
        draining = true
        let cut = 0
        const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS)
        const deadline = setTimeout(() => {
          cut = inFlight
          server.closeAllConnections()
        }, timeoutMs)
        server.close(() => {
          clearInterval(sweep)
          clearTimeout(deadline)
          resolve({ cut })
        })
        server.closeIdleConnections()
      })
      return closing
    },
  }
}
