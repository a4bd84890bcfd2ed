/**
 * Baseline: the best a Node proxy does. A bare node:http server that streams each request to the
 * upstream over a keep-alive agent and streams the answer back: no framework, no logging, no
 * auth, only the hop-by-hop headers dropped. Env: PORT, BENCH_UPSTREAM (base URL). SIGTERM stops it.
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http'

const port = Number(process.env.PORT)
const upstream = new URL(process.env.BENCH_UPSTREAM ?? '')
const agent = new Agent({ keepAlive: true, maxSockets: 256 })

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value
  return out
}

const server = createServer((req, res) => {
  const forwarded = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...endToEnd(req.headers), host: upstream.host },
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
      answer.pipe(res)
    },
  )
  forwarded.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' })
    res.end('{"error":"upstream"}')
  })
  req.pipe(forwarded)
})
server.keepAliveTimeout = 120_000
server.listen(port, '127.0.0.1')

const stop = (): void => {
  server.close(() => process.exit(0))
  server.closeAllConnections()
  agent.destroy()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
