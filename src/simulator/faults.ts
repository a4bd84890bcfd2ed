/**
 * What a faulted call gets instead of its real answer, and the cancellable wait behind 'slow'.
 * 'down' needs no answer: the server drops the socket before reading anything.
 */
import type { ServerResponse } from 'node:http'
import { errorAnswer, type Answer } from './http.js'
import { GARBAGE_KINDS, type ActiveFault, type GarbageKind } from './model.js'

/**
 * The answer that replaces the handler's; null when the call goes on (after the 'slow' wait).
 * `turn` is the call's number under this fault (1 for the first), which picks the 'garbage' kind
 * when the fault names none.
 */
export function faultAnswer(fault: ActiveFault, path: string, turn = 1): Answer | null {
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
    case 'garbage':
      return garbageAnswer(
        fault.garbage ?? GARBAGE_KINDS[(turn - 1) % GARBAGE_KINDS.length] ?? 'not-json',
      )
  }
}

/** A JSON object like ThoughtSpot's answers, to cut or mislabel. */
const SOME_JSON = JSON.stringify({
  id: '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5',
  name: 'garbage',
  rows: [
    [1, 'a'],
    [2, 'b'],
  ],
})

/** One broken answer; see `GARBAGE_KINDS`. Nothing in it comes from the request. */
export function garbageAnswer(kind: GarbageKind): Answer {
  const answer = (status: number, type: string, body: Buffer, cutOff = false): Answer => ({
    status,
    headers: { 'content-type': type },
    body,
    ...(cutOff ? { cutOff } : {}),
  })
  switch (kind) {
    case 'truncated-json':
      return answer(200, 'application/json', Buffer.from(SOME_JSON.slice(0, 30)))
    case 'not-json':
      return answer(200, 'application/json', Buffer.from('OK <b>done</b>\n'))
    case 'wrong-type':
      return answer(200, 'text/plain; charset=utf-8', Buffer.from(SOME_JSON))
    case 'binary':
      return answer(
        200,
        'application/json; charset=utf-16',
        Buffer.from([0xff, 0xfe, 0x00, 0xd8, 0x7b, 0x00, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
      )
    case 'error-not-json':
      return answer(500, 'application/json', Buffer.from('java.lang.NullPointerException\n'))
    case 'cut-off':
      return answer(200, 'application/json', Buffer.from(SOME_JSON), true)
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
