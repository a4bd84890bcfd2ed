/**
 * Baseline: the naive stack a team would write first. express + helmet + pino-http (default
 * request/response lines, credentials redacted, stdout sent to a log file by the bench) +
 * http-proxy-middleware over a keep-alive agent. No auth, no allowlist, no token: the client's
 * own bearer goes through. Env: PORT, BENCH_UPSTREAM (base URL). SIGTERM stops it.
 */
import { Agent } from 'node:http'
import express from 'express'
import helmet from 'helmet'
import { createProxyMiddleware } from 'http-proxy-middleware'
import { pinoHttp } from 'pino-http'

const port = Number(process.env.PORT)
const target = process.env.BENCH_UPSTREAM ?? ''
const agent = new Agent({ keepAlive: true, maxSockets: 256 })

const app = express()
app.use(helmet())
app.use(pinoHttp({ redact: ['req.headers.authorization', 'req.headers.cookie'] }))
app.use(createProxyMiddleware({ target, changeOrigin: true, agent }))

const server = app.listen(port, '127.0.0.1')
server.keepAliveTimeout = 120_000

const stop = (): void => {
  server.close(() => process.exit(0))
  server.closeAllConnections()
  agent.destroy()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
