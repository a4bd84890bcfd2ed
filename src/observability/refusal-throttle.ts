/**
 * Keeps floods out of the audit trail. A client over its rate limit is refused on every request
 * (600 a minute per IP by default), and while Redis is down every request is; one audit line
 * each would bury everything else. So, per window of {@link AUDIT_WINDOW_MS}, each subject (the
 * user when known, else the client IP) gets a few lines per code and route family — one for
 * RATE_LIMITED and STORE_UNAVAILABLE, {@link AUDIT_BURST} for the rest — and the refusals left out
 * are counted into one summary line at the end of the window, naming the largest counts. The
 * number of subjects tracked is bounded too, so a flood from many addresses costs bounded memory
 * and at most {@link MAX_SUBJECTS} lines a window.
 */

/** The window of the per-subject allowance. */
export const AUDIT_WINDOW_MS = 60_000
/** Lines per subject, code and route family in one window (flood codes: one). */
export const AUDIT_BURST = 10
/** Codes that come in floods by nature: one line per subject and window. */
const FLOOD_CODES: ReadonlySet<string> = new Set(['RATE_LIMITED', 'STORE_UNAVAILABLE'])
/** Subjects tracked per window; refusals of further ones are only counted. */
export const MAX_SUBJECTS = 1000
/** How many of the largest counts the summary names. */
const SUMMARY_TOP = 20

/** What the throttle looks at in a refusal. */
export interface Refusal {
  code: string
  route: string
  username?: string | undefined
  ip: string
}

/** One subject's refusals left out, in the summary. */
export interface SuppressedEntry {
  code: string
  route: string
  username?: string
  ip?: string
  count: number
}

/** The summary line's fields. */
export interface RefusalSummary {
  windowSeconds: number
  /** Every refusal left out in the window. */
  suppressed: number
  /** The largest counts, by subject, code and route family. */
  top: SuppressedEntry[]
}

/** Decides which refusals are written. */
export interface RefusalThrottle {
  /** True when the refusal gets its own line; false when it is only counted. */
  admit(refusal: Refusal): boolean
  /** Writes the summary of what was left out (if anything) and starts a new window. */
  flush(): void
}

interface Tally {
  entry: Omit<SuppressedEntry, 'count'>
  written: number
  suppressed: number
}

/** Builds the throttle; `summarise` writes the summary line. */
export function createRefusalThrottle(options: {
  now?: () => number
  summarise: (summary: RefusalSummary) => void
}): RefusalThrottle {
  const now = options.now ?? Date.now
  let windowStart = now()
  let tallies = new Map<string, Tally>()
  let untracked = 0
  let timer: NodeJS.Timeout | undefined

  const flush = (): void => {
    clearTimeout(timer)
    timer = undefined
    const left = [...tallies.values()].filter((tally) => tally.suppressed > 0)
    const suppressed = left.reduce((sum, tally) => sum + tally.suppressed, untracked)
    if (suppressed > 0) {
      options.summarise({
        windowSeconds: AUDIT_WINDOW_MS / 1000,
        suppressed,
        top: left
          .sort((a, b) => b.suppressed - a.suppressed)
          .slice(0, SUMMARY_TOP)
          .map((tally) => ({ ...tally.entry, count: tally.suppressed })),
      })
    }
    tallies = new Map()
    untracked = 0
    windowStart = now()
  }
  // The summary is due at the end of the window even when the flood stops before it.
  const schedule = (): void => {
    if (timer) return
    timer = setTimeout(flush, Math.max(0, windowStart + AUDIT_WINDOW_MS - now()))
    timer.unref()
  }

  return {
    admit(refusal) {
      if (now() - windowStart >= AUDIT_WINDOW_MS) flush()
      const subject =
        refusal.username !== undefined ? { username: refusal.username } : { ip: refusal.ip }
      const who = refusal.username !== undefined ? `user\0${refusal.username}` : `ip\0${refusal.ip}`
      const key = `${refusal.code}\0${refusal.route}\0${who}`
      let tally = tallies.get(key)
      if (!tally) {
        if (tallies.size >= MAX_SUBJECTS) {
          untracked++
          schedule()
          return false
        }
        tally = {
          entry: { code: refusal.code, route: refusal.route, ...subject },
          written: 0,
          suppressed: 0,
        }
        tallies.set(key, tally)
      }
      if (tally.written < (FLOOD_CODES.has(refusal.code) ? 1 : AUDIT_BURST)) {
        tally.written++
        return true
      }
      tally.suppressed++
      schedule()
      return false
    },
    flush,
  }
}
