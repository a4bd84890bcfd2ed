/**
 * The mapping in force. Re-read on SIGHUP and when the file changes; a new file that is invalid is
 * refused and the old mapping stays (logged at error), so a typo never locks everyone out.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import { StartupError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { loadMappingFile, type LoadedMapping, type MappingLoadOptions } from './schema.js'

/** Cross-checks with the rest of the config, e.g. attributes need TS_AUTH_API=v2. */
export type MappingCheck = (loaded: LoadedMapping) => string[]

/** How often the mapping file is checked for a change (one stat per interval). */
export const MAPPING_POLL_MS = 1000

/** The mapping in force, and its reloading. */
export interface MappingHolder {
  current(): LoadedMapping
  /** Re-reads the file; returns whether the new mapping was taken. */
  reload(): boolean
  /**
   * Calls `listener` with the new mapping after every reload that took one. The reload waits for
   * it, so a listener only starts work (the credential sweep); one that throws is logged.
   */
  onReload(listener: (loaded: LoadedMapping) => void): void
  /** Starts watching the file and SIGHUP; `stop()` undoes both. */
  watch(): void
  stop(): void
}

function load(file: string, check: MappingCheck, options: MappingLoadOptions): LoadedMapping {
  let source: string
  try {
    source = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new StartupError([`${file}: cannot read the mapping file (${code})`])
  }
  const result = loadMappingFile(file, source, options)
  if ('problems' in result) throw new StartupError(result.problems)
  const problems = check(result.loaded)
  if (problems.length > 0) throw new StartupError(problems)
  return result.loaded
}

/** Options of {@link createMappingHolder}. */
export interface MappingHolderOptions extends MappingLoadOptions {
  /** Problems this config finds in a mapping (see `config/checks.ts`). */
  check?: MappingCheck
  /** Default {@link MAPPING_POLL_MS}. */
  pollIntervalMs?: number
  /** Told of every reload's outcome (metrics): `applied`, or `rejected` (the old one stays). */
  onOutcome?: (outcome: 'applied' | 'rejected') => void
}

/** Loads the mapping (throws StartupError listing every problem) and returns its holder. */
export function createMappingHolder(
  file: string,
  log: Logger,
  options: MappingHolderOptions = {},
): MappingHolder {
  const check = options.check ?? (() => [])
  const pollIntervalMs = options.pollIntervalMs ?? MAPPING_POLL_MS
  const loadOptions: MappingLoadOptions =
    options.usernameCase === undefined ? {} : { usernameCase: options.usernameCase }
  // Warnings never refuse a file, but an operator tailing the log should see them once per load.
  const warn = (loaded: LoadedMapping): void => {
    if (loaded.warnings.length > 0) {
      log.warn(
        { event: 'mapping.warnings', file, warnings: loaded.warnings },
        'the mapping has warnings (npm run mapping -- check explains them)',
      )
    }
  }
  let current = load(file, check, loadOptions)
  warn(current)
  let watching = false
  const listeners: Array<(loaded: LoadedMapping) => void> = []
  const notify = (loaded: LoadedMapping): void => {
    for (const listener of listeners) {
      try {
        listener(loaded)
      } catch (err) {
        log.error({ event: 'mapping.listener_failed', err }, 'a mapping-reload listener failed')
      }
    }
  }

  const reload = (): boolean => {
    try {
      current = load(file, check, loadOptions)
      log.info(
        { event: 'mapping.reloaded', file, rules: current.mapping.rules.length },
        'mapping reloaded',
      )
      warn(current)
    } catch (err) {
      const problems = err instanceof StartupError ? err.problems : [String(err)]
      log.error(
        { event: 'mapping.rejected', file, problems },
        'new mapping refused; the previous one stays in force',
      )
      options.onOutcome?.('rejected')
      return false
    }
    options.onOutcome?.('applied')
    notify(current)
    return true
  }
  const onSighup = (): void => {
    reload()
  }

  return {
    current: () => current,
    reload,
    onReload(listener) {
      listeners.push(listener)
    },
    watch() {
      if (watching) return
      watching = true
      process.on('SIGHUP', onSighup)
      // Polling (not fs.watch): it survives editors that replace the file and Kubernetes
      // ConfigMap symlink swaps, at the cost of one stat per interval.
      watchFile(file, { interval: pollIntervalMs, persistent: false }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino)
          reload()
      })
    },
    stop() {
      if (!watching) return
      watching = false
      process.off('SIGHUP', onSighup)
      unwatchFile(file)
    },
  }
}
