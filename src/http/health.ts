/**
 * /healthz: the process serves (liveness). /readyz: every dependency the BFF needs to serve
 * answers (readiness): the shared state store, and whatever else `checks` names. A failing check
 * is a 503 NOT_READY naming each dependency that does not answer, so an operator reading the
 * probe knows where to look.
 */
import { BffError, toErrorBody } from '../errors.js'
import { scopeOf } from '../scope.js'
import { exactRouter } from './routing.js'

/** One readiness check: resolves when its dependency answers; its rejection's message says why. */
export interface ReadinessCheck {
  /** What is checked, as an operator would name it ("session store (Redis)"). */
  name: string
  check(): Promise<void>
}

/** How long one check may take before it counts as not answering. */
export const READY_TIMEOUT_MS = 1000

async function run(check: ReadinessCheck, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      check.check(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
    return null
  } catch (err) {
    const why = err instanceof Error && err.message ? err.message : 'does not answer'
    return `${check.name} does not answer (${why})`
  } finally {
    clearTimeout(timer)
  }
}

/** The two probe routes. */
export function healthRoutes(checks: readonly ReadinessCheck[], timeoutMs = READY_TIMEOUT_MS) {
  const router = exactRouter()
  router.get('/healthz', function liveness(_req, res) {
    res.json({ status: 'ok' })
  })
  router.get('/readyz', async function readiness(_req, res) {
    const problems = (await Promise.all(checks.map((check) => run(check, timeoutMs)))).filter(
      (problem): problem is string => problem !== null,
    )
    if (problems.length === 0) {
      res.json({ status: 'ready' })
      return
    }
    const reason = problems.join('; ')
    const error = new BffError('NOT_READY', `Not ready: ${reason}.`)
    res
      .status(error.status)
      .set('Cache-Control', 'no-store')
      .json({ status: 'not ready', reason, ...toErrorBody(error, scopeOf(res).requestId) })
  })
  return router
}
