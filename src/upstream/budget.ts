/**
 * The BFF's own upstream budget: ThoughtSpot limits each client IP (about 100 requests/s with a
 * small burst) and every user's traffic leaves from the BFF's IP, so one busy user must not get
 * everyone locked out. Two limits:
 *  - concurrency: at most `maxConcurrency` upstream requests in flight, per replica;
 *  - rate: a token from the {@link RateBucket}, shared by every replica when Redis is used.
 * A request waits in FIFO order for at most `queueTimeoutMs`, then gets 429 RATE_LIMITED.
 */
import { BffError } from '../errors.js'
import type { Grant, RateBucket } from '../state/rate-bucket.js'

/** Grants permission for one upstream request; resolves to its release function. */
export interface UpstreamBudget {
  acquire(): Promise<() => void>
}

/** No limits at all, for tests of the forwarder alone. */
export const unlimitedBudget: UpstreamBudget = { acquire: () => Promise.resolve(() => undefined) }

/** Why a request got no budget: none within `queueTimeoutMs`, or the rate store failed. */
export type BudgetRejection = 'queue_timeout' | 'store_error'

/** Told of every grant and refusal (metrics). */
export interface BudgetObserver {
  /** A request was granted after waiting `waitMs` (0: at once). */
  granted(waitMs: number): void
  rejected(reason: BudgetRejection): void
}

/** Options of {@link createUpstreamBudget}. */
export interface BudgetOptions {
  maxConcurrency: number
  queueTimeoutMs: number
  rate: RateBucket
  observer?: BudgetObserver
  /** Millisecond clock for the waits the observer is told of; default `performance.now`. */
  now?: () => number
}

interface Waiter {
  resolve: (release: () => void) => void
  reject: (err: unknown) => void
  timer: NodeJS.Timeout
  queuedAt: number
}

function refusal(): BffError {
  return new BffError('RATE_LIMITED', 'ThoughtSpot capacity is busy; retry in a moment.', {
    retryAfter: 1,
  })
}

/**
 * The budget; `inFlight()` tells how many granted requests have not been released, `queued()`
 * how many wait.
 */
export function createUpstreamBudget(
  options: Readonly<BudgetOptions>,
): UpstreamBudget & { inFlight(): number; queued(): number } {
  const { observer } = options
  const now = options.now ?? (() => performance.now())
  const queue: Waiter[] = []
  let inFlight = 0
  let pumping = false
  let wakeTimer: NodeJS.Timeout | undefined

  const releaser = (): (() => void) => {
    let done = false
    return () => {
      if (done) return
      done = true
      inFlight--
      void pump()
    }
  }

  /**
   * Grants waiters in order while slots are free and the bucket gives tokens. Taking tokens may be
   * a Redis round trip, so one pump runs at a time and it asks for as many as there are waiters
   * (up to the free slots): under load one round trip grants many calls. A waiter that timed out
   * meanwhile has left the queue; its token goes to the next one, or is spent unused.
   */
  async function pump(): Promise<void> {
    if (pumping) return
    pumping = true
    try {
      while (queue.length > 0 && inFlight < options.maxConcurrency) {
        let grant: Grant
        try {
          grant = await options.rate.take(Math.min(queue.length, options.maxConcurrency - inFlight))
        } catch (err) {
          const waiter = queue.shift()
          if (waiter) {
            observer?.rejected('store_error')
            settle(waiter, () => waiter.reject(err))
          }
          continue
        }
        if (grant.granted === 0) {
          if (!wakeTimer) {
            wakeTimer = setTimeout(() => {
              wakeTimer = undefined
              void pump()
            }, grant.waitMs)
            wakeTimer.unref()
          }
          return
        }
        for (let i = 0; i < grant.granted; i++) {
          const waiter = queue.shift()
          if (!waiter) return
          inFlight++
          observer?.granted(now() - waiter.queuedAt)
          settle(waiter, () => waiter.resolve(releaser()))
        }
      }
    } finally {
      pumping = false
    }
  }

  function settle(waiter: Waiter, done: () => void): void {
    clearTimeout(waiter.timer)
    done()
  }

  return {
    acquire() {
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            const index = queue.indexOf(waiter)
            if (index >= 0) queue.splice(index, 1)
            observer?.rejected('queue_timeout')
            reject(refusal())
          }, options.queueTimeoutMs),
          queuedAt: now(),
        }
        waiter.timer.unref()
        queue.push(waiter)
        void pump()
      })
    },
    inFlight: () => inFlight,
    queued: () => queue.length,
  }
}
