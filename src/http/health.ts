/** /healthz (the process serves) and /readyz (config loaded and the session store answers). */
import { Router } from 'express'
import type { SessionBackend } from '../session/store.js'

export function healthRoutes(sessions: SessionBackend, readyTimeoutMs = 1000): Router {
  const router = Router()
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })
  router.get('/readyz', async (_req, res) => {
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        sessions.ping(),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), readyTimeoutMs)
        }),
      ])
      res.json({ status: 'ready' })
    } catch {
      res.status(503).json({ status: 'not ready', reason: 'session store does not answer' })
    } finally {
      clearTimeout(timer)
    }
  })
  return router
}
