/**
 * After a mapping reload, the credentials of users it no longer maps are revoked upstream: the
 * BFF refuses their requests at once, but tokens already handed out stay valid at ThoughtSpot
 * until they expire. The sweep walks every user with a live token or held session, evaluates the
 * new mapping on the claims of their newest ledger entry, and for each user now denied, not mapped
 * or limited to object tokens revokes their tokens and ends their held sessions (audited as
 * `mapping-change`). An entry whose kept claims do not cover what the mapping now reads cannot be
 * judged and is revoked too: fail closed. Idempotent (revoked credentials leave the ledger), so
 * every replica that reloads may run it. It runs in the background, in batches, and paces its
 * revocations to a small share of the upstream budget so requests keep theirs.
 */
import { randomUUID } from 'node:crypto'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { evaluateMapping } from '../mapping/evaluate.js'
import type { MappingHolder } from '../mapping/holder.js'
import type { LoadedMapping } from '../mapping/schema.js'
import type { Audit } from '../observability/audit.js'
import type { Logger } from '../observability/logger.js'
import type { ClaimKeeper } from '../session/kept-claims.js'
import type { CachedToken, TokenCache } from '../state/token-cache.js'
import type { HeldSessions } from '../upstream/held-sessions.js'
import type { TokenService } from './token-service.js'

/** Users whose ledgers are read at once; the sweep yields to requests between batches. */
const BATCH = 50

/** Options of {@link createReloadSweep}. */
export interface ReloadSweepOptions {
  mapping: MappingHolder
  claims: ClaimKeeper
  tokens: TokenService
  /** The token cache and ledger (whose users are walked). */
  tokenCache: TokenCache
  heldSessions: HeldSessions
  /** The held-sessions namespace of the cache. */
  heldCache: TokenCache
  audit: Audit
  log: Logger
  /** Upstream calls (revocations, logouts) the sweep may make per second. */
  callsPerSecond: number
}

/** The sweep, started by each reload. */
export interface ReloadSweep {
  /** Sweeps for the mapping in force, in the background; during a sweep, queues one more. */
  schedule(): void
  /** Resolves once no sweep is running or queued. */
  idle(): Promise<void>
  /** Stops after the user in hand; resolves when it has. */
  stop(): Promise<void>
}

/** Why a user's credentials go: what the new mapping says of their newest ledger entry. */
type Verdict = 'denied' | 'not-mapped' | 'object-only' | 'claims-unknown'

function verdictOf(loaded: LoadedMapping, keeper: ClaimKeeper, entry: CachedToken): Verdict | null {
  if (!entry.claims || keeper.missing(entry.claimNames).length > 0) return 'claims-unknown'
  const result = evaluateMapping(loaded, entry.username, entry.claims)
  if (result.outcome !== 'mapped') return result.outcome
  // The BFF refuses full tokens to REPORT_BOOK_VIEW users; the ones they hold go too.
  return result.access.accessLevel === 'FULL' ? null : 'object-only'
}

/** A mapping as text, to skip a reload that changed nothing (a touched file, a repeated SIGHUP). */
function fingerprint(loaded: LoadedMapping): string {
  return JSON.stringify(loaded.mapping)
}

/** Builds the sweep; `schedule` it from the mapping holder's `onReload`. */
export function createReloadSweep(options: Readonly<ReloadSweepOptions>): ReloadSweep {
  const { mapping, claims, tokens, tokenCache, heldSessions, heldCache, audit, log } = options
  const msPerCall = 1000 / Math.max(1, options.callsPerSecond)
  const stopping = new AbortController()
  let swept = fingerprint(mapping.current())
  let running: Promise<void> | undefined
  let queued = false
  // A function, not a read of the flag: it changes while a sweep awaits.
  const stopped = (): boolean => stopping.signal.aborted

  async function newestEntry(username: string): Promise<CachedToken | undefined> {
    const [minted, held] = await Promise.all([
      tokenCache.ledgerOf(username),
      heldCache.ledgerOf(username),
    ])
    return minted[0] ?? held[0]
  }

  async function revoke(username: string, verdict: Verdict, requestId: string): Promise<number> {
    const sessionsEnded = await heldSessions.endAll(username, log)
    const { revoked, failed } = await tokens.revokeAll(username, log)
    const calls = sessionsEnded + revoked + failed
    if (calls > 0) {
      audit.revoked({
        requestId,
        username,
        reason: 'mapping-change',
        tokensRevoked: revoked,
        revokeFailures: failed,
        sessionsEnded,
      })
      log.info({ event: 'mapping.sweep_revoked', requestId, username, verdict }, 'revoked')
    }
    return calls
  }

  async function sweep(): Promise<void> {
    const requestId = `mapping-reload:${randomUUID()}`
    const users = [
      ...new Set([...(await tokenCache.usernames()), ...(await heldCache.usernames())]),
    ]
    let refused = 0
    for (let start = 0; start < users.length && !stopped(); start += BATCH) {
      const batch = users.slice(start, start + BATCH)
      const entries = await Promise.all(batch.map(newestEntry))
      for (const entry of entries) {
        if (!entry || stopped()) continue
        const verdict = verdictOf(mapping.current(), claims, entry)
        if (verdict === null) continue
        refused++
        const calls = await revoke(entry.username, verdict, requestId)
        // Paced: the sweep's calls take a small share of the upstream budget, requests the rest.
        await sleep(calls * msPerCall, undefined, { signal: stopping.signal, ref: false }).catch(
          () => undefined,
        )
      }
      await nextTurn()
    }
    log.info(
      { event: 'mapping.swept', requestId, users: users.length, refused },
      'mapping reload: credentials of users it no longer maps are revoked',
    )
  }

  /** One sweep, unless the mapping in force is the one last swept. */
  async function pass(): Promise<void> {
    const current = fingerprint(mapping.current())
    if (current === swept) return
    try {
      await sweep()
      swept = current
    } catch (err) {
      // A store that failed mid-sweep: the next reload sweeps again; tokens expire meanwhile.
      log.error({ event: 'mapping.sweep_failed', err }, 'the mapping-reload sweep failed')
    }
  }

  function start(): void {
    queued = false
    running = pass().finally(() => {
      running = undefined
      // A reload during the pass: sweep again for the mapping now in force.
      if (queued && !stopped()) start()
    })
  }

  return {
    schedule() {
      if (stopped()) return
      if (running) queued = true
      else start()
    },
    async idle() {
      while (running) await running
    },
    async stop() {
      stopping.abort()
      await running
    },
  }
}
