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
 * The bucket's refill rate: `perSecond` less the burst. A bucket grants at most its burst plus
 * the refill over any window, so this keeps every window of one second at `perSecond` grants or
 * fewer (ThoughtSpot counts arrivals per second; a full burst on top of a full second of rate
 * would exceed the budget by a tenth). At 1/s the burst is the whole rate; it refills at 1/s.
 */
export function refillOf(perSecond: number): number {
  const burst = burstOf(perSecond)
  return perSecond > burst ? perSecond - burst : perSecond
}

/**
 * A bucket in this process: a burst of {@link burstOf}, refilled at {@link refillOf}. `now` is a
 * monotonic millisecond clock; never a test's frozen clock, since refills must happen while
 * callers wait.
 */
export function memoryRateBucket(
  perSecond: number,
  now: () => number = () => performance.now(),
): RateBucket {
  const burst = burstOf(perSecond)
  const refill = refillOf(perSecond)
  let tokens = burst
  let refilledAt = now()
  return {
    take(wanted) {
      const at = now()
      tokens = Math.min(burst, tokens + ((at - refilledAt) / 1000) * refill)
      refilledAt = at
      const granted = Math.max(0, Math.min(Math.floor(wanted), Math.floor(tokens)))
      tokens -= granted
      const waitMs = granted > 0 ? 0 : Math.ceil(((1 - tokens) / refill) * 1000)
      return Promise.resolve({ granted, waitMs })
    },
  }
}
