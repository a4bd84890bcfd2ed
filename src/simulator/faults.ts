/**
 * What a faulted call gets instead of its real answer, and the cancellable wait behind 'slow'.
 * 'down' needs no answer: the server drops the socket before reading anything.
 */
import type { ServerResponse } from 'node:http'
import { errorAnswer, type Answer } from './http.js'
import type { ActiveFault } from './model.js'

/** The answer that replaces the handler's; null when the call goes on (after the 'slow' wait). */
export function faultAnswer(fault: ActiveFault, path: string): Answer | null {
  switch (fault.mode) {
    case 'down':
    case 'slow':
      return null
    case 'unauthorized':
      return errorAnswer(path, 401, 'Authentication required')
    case 'rateLimited': {
      const answer = errorAnswer(path, 429, 'Too many requests')
      answer.headers['retry-after'] = String(fault.retryAfterSeconds)
      return answer
    }
    case 'maintenance':
      return maintenancePage()
    case 'error':
      return errorAnswer(path, 500, 'Internal server error')
  }
}

/** What a cluster in maintenance serves, with status 200 (economy or maintenance mode). */
function maintenancePage(): Answer {
  const html =
    '<!DOCTYPE html><html><head><title>Site Maintenance</title></head><body>' +
    '<h1>Site Maintenance</h1><p>ThoughtSpot is down for maintenance. Please try again later.</p>' +
    '</body></html>'
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: Buffer.from(html),
  }
}

/**
 * Resolves true after `ms` or as soon as the state releases slow calls (the registered release
 * in `releases`), or false as soon as the client goes away or close() runs the cancel it
 * registered in `cancels`. The timer is unref'd, so it never holds the process open.
 */
export function waitFor(
  ms: number,
  res: ServerResponse,
  cancels: Set<() => void>,
  releases: Set<() => void>,
): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (completed: boolean) => {
      clearTimeout(timer)
      cancels.delete(cancel)
      releases.delete(release)
      res.off('close', cancel)
      resolve(completed)
    }
    const cancel = () => finish(false)
    const release = () => finish(true)
    const timer = setTimeout(() => finish(true), ms)
    timer.unref()
    cancels.add(cancel)
    releases.add(release)
    res.once('close', cancel)
  })
}
