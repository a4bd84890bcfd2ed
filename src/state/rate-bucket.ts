/**
 * The shared half of the upstream budget: how many calls per second all replicas together may
 * send ThoughtSpot. ThoughtSpot limits each client IP, and every user's traffic leaves from the
 * BFF's IP, so this is one bucket for the whole deployment (in Redis when several replicas run).
 */

/** A token bucket of upstream calls. */
export interface RateBucket {
  /**
   * Takes one call's worth of rate. Resolves 0 when the call may go now, else the milliseconds
   * until a token is expected (nothing was taken then). Rejects STORE_UNAVAILABLE when the
   * shared store does not answer.
   */
  take(): Promise<number>
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
    take() {
      const at = now()
      tokens = Math.min(burst, tokens + ((at - refilledAt) / 1000) * perSecond)
      refilledAt = at
      if (tokens >= 1) {
        tokens -= 1
        return Promise.resolve(0)
      }
      return Promise.resolve(Math.ceil(((1 - tokens) / perSecond) * 1000))
    },
  }
}
