/**
 * "Exactly one of us does it": runs `work` for a key while holding a {@link Lock} lease, so across
 * every replica only one mint (or v1 login) for that key is in flight. The others wait for the
 * result to appear where the holder stores it (`peek`), without doing the work themselves. A
 * holder that dies frees the key when its lease runs out; a waiter then takes the lease and does
 * the work once itself. Never a deadlock, never two at once.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { BffError } from '../errors.js'
import type { Lock } from './lock.js'

/** How often a waiter looks for the holder's result. */
export const EXCLUSIVE_POLL_MS = 25

/** What {@link exclusive} needs. */
export interface ExclusiveOptions<T> {
  lock: Lock
  key: string
  /** Lease length: longer than the work can take (the work is bounded by upstream timeouts). */
  leaseMs: number
  /** The result the holder stored, if there is one a waiter may take. */
  peek(): Promise<T | undefined>
  /** The work; its result must be stored where `peek` finds it before it resolves. */
  work(): Promise<T>
  /** Monotonic clock; tests keep the default. */
  now?: () => number
}

/** Runs `work` under the lease, or waits for the holder's result; see the module comment. */
export async function exclusive<T>(options: Readonly<ExclusiveOptions<T>>): Promise<T> {
  const now = options.now ?? (() => performance.now())
  // A waiter outlasts one holder that dies (one lease) and its own turn (a second lease).
  const deadline = now() + 2 * options.leaseMs
  for (;;) {
    const lease = await options.lock.acquire(options.key, options.leaseMs)
    if (lease) {
      try {
        // Another replica may have finished between our last look and taking the lease.
        return (await options.peek()) ?? (await options.work())
      } finally {
        await lease.release()
      }
    }
    await sleep(EXCLUSIVE_POLL_MS)
    const found = await options.peek()
    if (found !== undefined) return found
    if (now() > deadline) {
      throw new BffError(
        'UPSTREAM_TIMEOUT',
        'ThoughtSpot did not answer in time (another request for this user is still waiting).',
      )
    }
  }
}
