/**
 * The BFF's own upstream budget (SPEC §5): ThoughtSpot limits each client IP (about 100 requests/s
 * with a small burst) and every user's traffic leaves from the BFF's IP, so one busy user must not
 * get everyone locked out. Two limits, both per replica here:
 *  - concurrency: at most `maxConcurrency` upstream requests in flight;
 *  - rate: a token bucket refilled at `maxRequestsPerSecond`, with a burst of a tenth of a second.
 * A request waits in FIFO order for at most `queueTimeoutMs`, then gets 429 RATE_LIMITED.
 */
import { BffError } from '../errors.js'
import type { UpstreamBudget } from './upstream.js'

export interface BudgetOptions {
  maxConcurrency: number
  maxRequestsPerSecond: number
  queueTimeoutMs: number
  now?: () => number
}

interface Waiter {
  grant: (release: () => void) => void
  timer: NodeJS.Timeout
}

function refusal(): BffError {
  return new BffError('RATE_LIMITED', 'ThoughtSpot capacity is busy; retry in a moment.', {
    retryAfter: 1,
  })
}

export function createUpstreamBudget(
  options: Readonly<BudgetOptions>,
): UpstreamBudget & { inFlight(): number } {
  // Real elapsed time, never a test's frozen clock: refills must happen while callers wait.
  const now = options.now ?? (() => performance.now())
  const rate = options.maxRequestsPerSecond
  const burst = Math.max(1, Math.ceil(rate / 10))
  let tokens = burst
  let refilledAt = now()
  let inFlight = 0
  const queue: Waiter[] = []
  let wakeTimer: NodeJS.Timeout | undefined

  const refill = (): void => {
    const at = now()
    tokens = Math.min(burst, tokens + ((at - refilledAt) / 1000) * rate)
    refilledAt = at
  }

  const release = (): void => {
    inFlight--
    pump()
  }
  const once = (): (() => void) => {
    let done = false
    return () => {
      if (done) return
      done = true
      release()
    }
  }

  /** Grants waiters in order while both a slot and a rate token are free. */
  function pump(): void {
    refill()
    while (queue.length > 0 && inFlight < options.maxConcurrency && tokens >= 1) {
      const waiter = queue.shift() as Waiter
      clearTimeout(waiter.timer)
      tokens -= 1
      inFlight++
      waiter.grant(once())
    }
    if (queue.length > 0 && inFlight < options.maxConcurrency && tokens < 1 && !wakeTimer) {
      // Out of rate tokens only: wake up when the next one has dripped in.
      wakeTimer = setTimeout(
        () => {
          wakeTimer = undefined
          pump()
        },
        Math.ceil(((1 - tokens) / rate) * 1000),
      )
      wakeTimer.unref()
    }
  }

  return {
    acquire() {
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          grant: resolve,
          timer: setTimeout(() => {
            const index = queue.indexOf(waiter)
            if (index >= 0) queue.splice(index, 1)
            reject(refusal())
          }, options.queueTimeoutMs),
        }
        waiter.timer.unref()
        queue.push(waiter)
        pump()
      })
    },
    inFlight: () => inFlight,
  }
}
