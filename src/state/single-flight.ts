/**
 * One run per key at a time in this process (the pattern of jose's remote JWKS reload): the promise
 * is stored synchronously so the next caller joins it, and cleared in `finally` — only if it is
 * still the current one — so a failure cannot wedge the key. Across replicas, `exclusive.ts`.
 */

/** In-process joining of concurrent runs for one key. */
export class SingleFlight<T> {
  readonly #pending = new Map<string, Promise<T>>()

  /** Runs `work` unless a run for `key` is in flight; `onJoin` fires for callers that join. */
  run(key: string, work: () => Promise<T>, onJoin?: () => void): Promise<T> {
    const existing = this.#pending.get(key)
    if (existing) {
      onJoin?.()
      return existing
    }
    // The async wrapper turns a synchronous throw in `work` into a rejection of `current`.
    const current: Promise<T> = (async () => work())().finally(() => {
      if (this.#pending.get(key) === current) this.#pending.delete(key)
    })
    this.#pending.set(key, current)
    return current
  }

  /** Keys with a run in flight. */
  get inFlight(): number {
    return this.#pending.size
  }
}
