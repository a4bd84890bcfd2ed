/**
 * Shared state for tests that need a store to fail: the real memory stores with the session
 * backend swapped for one whose store errors and whose ping rejects, as a Redis that went away
 * would. Injected through `startStack({ stores })`, never patched into a running app.
 */
import session from 'express-session'
import type { Config } from '../../src/config/load.js'
import type { SessionBackend } from '../../src/state/session-store.js'
import { createMemoryStores, type Stores } from '../../src/state/stores.js'

/** A session store that answers every call with `error`. */
class FailingStore extends session.Store {
  constructor(private readonly error: Error) {
    super()
  }
  override get(_sid: string, callback: (err: unknown) => void): void {
    callback(this.error)
  }
  override set(_sid: string, _data: session.SessionData, callback?: (err?: unknown) => void): void {
    callback?.(this.error)
  }
  override destroy(_sid: string, callback?: (err?: unknown) => void): void {
    callback?.(this.error)
  }
}

/** A session backend that is down: every store call fails, readiness rejects. */
export function failingSessionBackend(message = 'store down'): SessionBackend {
  const error = new Error(message)
  return {
    store: new FailingStore(error),
    track: () => Promise.reject(error),
    ping: () => Promise.reject(error),
    close: () => Promise.resolve(),
  }
}

/** The memory stores, but with `sessions` down. */
export function storesWithFailingSessions(config: Config): Stores {
  const stores = createMemoryStores(config)
  const sessions = failingSessionBackend()
  return { ...stores, sessions, ping: () => sessions.ping() }
}

/** Memory stores whose session store fails its next `failNext` reads: a Redis that blips. */
export function storesWithFlakySessions(
  config: Config,
): Stores & { failNext(reads: number): void } {
  const stores = createMemoryStores(config)
  const store = stores.sessions.store
  const get = store.get.bind(store)
  let failures = 0
  store.get = (sid, callback) => {
    if (failures > 0) {
      failures--
      callback(new Error('store blip'))
      return
    }
    get(sid, callback)
  }
  return Object.assign(stores, {
    failNext(reads: number) {
      failures = reads
    },
  })
}
