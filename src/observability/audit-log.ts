/**
 * Where audit lines go (`audit.destination`): `stdout`, among the other log lines, or a file of
 * their own, appended to and reopened on SIGHUP (logrotate's `postrotate` sends one after moving
 * the file away). Either way audit lines are written at `info` whatever `LOG_LEVEL` says: a
 * quieter log must not lose the audit trail.
 */
import { closeSync, openSync } from 'node:fs'
import { pino } from 'pino'
import { StartupError } from '../errors.js'
import { createLogger, type Logger } from './logger.js'

/** The audit trail's logger and its file's upkeep. */
export interface AuditLog {
  log: Logger
  /** Reopens the file (after logrotate moved it); nothing for stdout. */
  reopen(): void
  /** Writes what is buffered and closes the file. */
  close(): Promise<void>
}

/** Opens the audit destination; a file that cannot be appended to stops the start. */
export function createAuditLog(destination: string, mainLog: Logger): AuditLog {
  if (destination === 'stdout') {
    return {
      log: mainLog.child({}, { level: 'info' }),
      reopen: () => undefined,
      close: () => Promise.resolve(),
    }
  }
  try {
    closeSync(openSync(destination, 'a'))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unwritable'
    throw new StartupError([
      `audit.destination: cannot open ${destination} for appending (${code})`,
    ])
  }
  const file = pino.destination({ dest: destination, append: true, sync: false })
  file.on('error', (err: Error) => {
    mainLog.error(
      {
        event: 'audit.write_failed',
        file: destination,
        err: { type: err.name, message: err.message },
      },
      'cannot write the audit file',
    )
  })
  let closed = false
  return {
    log: createLogger({ level: 'info', destination: file }),
    reopen() {
      if (closed) return
      file.reopen()
      mainLog.info({ event: 'audit.reopened', file: destination }, 'audit file reopened')
    },
    close() {
      if (closed) return Promise.resolve()
      closed = true
      return new Promise((resolve) => {
        file.once('close', () => resolve())
        file.end()
      })
    },
  }
}
