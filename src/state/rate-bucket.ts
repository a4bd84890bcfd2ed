/**
 * The shared half of the upstream budget: how many calls per second all replicas together may
 * send ThoughtSpot. ThoughtSpot limits each client IP, and every user's traffic leaves from the
 * BFF's IP, so this is one bucket for the whole deployment (in Redis when several replicas run).
 */

/** What one take from the bucket gave. */
export interface Grant {
  /** Calls that may go now: at least 0, at most what was asked. */
  granted: number
  /** When nothing was granted: the milliseconds until a token is expected. */
  waitMs: number
}

/** A token bucket of upstream calls. */
export interface RateBucket {
  /**
   * Takes up to `wanted` calls' worth of rate at once (the budget asks for as many as it has
   * callers waiting, so a busy replica makes one round trip for many calls). Rejects
   * STORE_UNAVAILABLE when the shared store does not answer.
   */
  take(wanted: number): Promise<Grant>
}

/** The bucket's size: a tenth of a second of rate, so bursts stay short. At least 1. */
export function burstOf(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond / 10))
}

/**
 * A bucket in this process, refilled at `perSecond` with a burst of {@link burstOf}. `now` is a
 * monotonic millisecond clock; never a test's frozen clock, since refills must happen while
 * callers wait.
 */
export function memoryRateBucket(
  perSecond: number,
  now: () => number = () => performance.now(),
): RateBucket {
  const burst = burstOf(perSecond)
  let tokens = burst
  let refilledAt = now()
  return {
    take(wanted) {
      const at = now()
      tokens = Math.min(burst, tokens + ((at - refilledAt) / 1000) * perSecond)
      refilledAt = at
      const granted = Math.max(0, Math.min(Math.floor(wanted), Math.floor(tokens)))
      tokens -= granted
      const waitMs = granted > 0 ? 0 : Math.ceil(((1 - tokens) / perSecond) * 1000)
      return Promise.resolve({ granted, waitMs })
    },
  }
}
