/**
 * "One mint per key at a time", across replicas: a short lease with a fencing token. Only the
 * holder can release it (a lease that expired and was taken by another is not released by the
 * late first holder), and a holder that dies frees the key when the lease runs out, so nobody
 * waits forever.
 */
import { randomBytes } from 'node:crypto'

/** A held lease. */
export interface LockLease {
  /** The fencing token: unique per acquisition. */
  readonly token: string
  /** Gives the key back, if this lease still holds it. Never throws. */
  release(): Promise<void>
}

/** Leases on keys. */
export interface Lock {
  /** Takes `key` for `ttlMs` unless someone holds it; resolves null when they do. */
  acquire(key: string, ttlMs: number): Promise<LockLease | null>
  /** True while anyone holds `key`. */
  isHeld(key: string): Promise<boolean>
}

/** A fresh fencing token. */
export function fencingToken(): string {
  return randomBytes(16).toString('base64url')
}

/** Leases in this process (one replica); `now` is a millisecond clock. */
export function memoryLock(now: () => number = Date.now): Lock {
  const leases = new Map<string, { token: string; until: number }>()
  const live = (key: string): { token: string; until: number } | undefined => {
    const lease = leases.get(key)
    if (lease && lease.until <= now()) {
      leases.delete(key)
      return undefined
    }
    return lease
  }
  return {
    acquire(key, ttlMs) {
      if (live(key)) return Promise.resolve(null)
      const token = fencingToken()
      leases.set(key, { token, until: now() + ttlMs })
      return Promise.resolve({
        token,
        release() {
          if (leases.get(key)?.token === token) leases.delete(key)
          return Promise.resolve()
        },
      })
    },
    isHeld: (key) => Promise.resolve(live(key) !== undefined),
  }
}
