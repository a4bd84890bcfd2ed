/**
 * The one Redis connection of a replica (ioredis), set up to fail fast rather than wait: no
 * offline queue (a command while disconnected fails at once), a deadline on every command (a
 * Redis that hangs fails the request in {@link REDIS_COMMAND_TIMEOUT_MS}, not after minutes), and
 * reconnection in the background until Redis is back. Every failure becomes 503
 * STORE_UNAVAILABLE: the BFF never falls back to memory.
 */
import { Redis } from 'ioredis'
import { BffError } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'

/** How long one Redis command may take before the request fails with STORE_UNAVAILABLE. */
export const REDIS_COMMAND_TIMEOUT_MS = 1000
/** How long a connection attempt may take. */
export const REDIS_CONNECT_TIMEOUT_MS = 2000
/** The longest pause between reconnection attempts. */
export const REDIS_MAX_RECONNECT_DELAY_MS = 2000
/** At most one "Redis error" log line per this interval (a down Redis errors on every attempt). */
const ERROR_LOG_INTERVAL_MS = 10_000

/** A replica's Redis connection and the key prefix of the deployment. */
export interface RedisConnection {
  client: Redis
  /** `redis.keyPrefix`: every key of this deployment starts with it. */
  prefix: string
  /** Runs one store operation; any failure becomes STORE_UNAVAILABLE (the cause is kept). */
  run<T>(operation: () => Promise<T>): Promise<T>
  ping(): Promise<void>
  close(): Promise<void>
}

/** The error every Redis failure becomes. */
export function redisUnavailable(cause: unknown): BffError {
  return new BffError('STORE_UNAVAILABLE', 'The shared state store (Redis) is unavailable.', {
    cause,
  })
}

/** Where the URL points, for logs: never the password. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return '(unparseable REDIS_URL)'
  }
}

/**
 * Told of every Redis failure (metrics): a connection error (each failed attempt while Redis is
 * down), or a command that failed or timed out.
 */
export type RedisErrorHook = (err: Error, kind: 'connection' | 'command') => void

/** Opens the connection (in the background: readiness reports it until it is up). */
export function connectRedis(
  url: string,
  options: { prefix: string; log: Logger; onError?: RedisErrorHook },
): RedisConnection {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    enableReadyCheck: true,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    // No auto-pipelining: it defers every command to the next loop turn and wraps it in a
    // pipeline, which cost more CPU per request than it saved here (measured in bench/).
    enableAutoPipelining: false,
    retryStrategy: (attempt) =>
      Math.min(100 * 2 ** Math.min(attempt, 5), REDIS_MAX_RECONNECT_DELAY_MS),
  })
  const where = describeRedisUrl(url)
  let lastLogged = 0
  client.on('error', (err: Error) => {
    options.onError?.(err, 'connection')
    const now = Date.now()
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) return
    lastLogged = now
    options.log.error(
      { event: 'redis.error', redis: where, err: { type: err.name, message: err.message } },
      'Redis does not answer; requests that need it get 503 STORE_UNAVAILABLE until it is back',
    )
  })
  client.on('ready', () => {
    if (lastLogged !== 0) {
      options.log.info({ event: 'redis.ready', redis: where }, 'Redis is back')
      lastLogged = 0
    }
  })

  return {
    client,
    prefix: options.prefix,
    async run(operation) {
      try {
        return await operation()
      } catch (err) {
        if (err instanceof BffError) throw err
        options.onError?.(err instanceof Error ? err : new Error(String(err)), 'command')
        throw redisUnavailable(err)
      }
    },
    async ping() {
      if (client.status !== 'ready') throw new Error(`Redis at ${where} is ${client.status}`)
      await client.ping()
    },
    async close() {
      try {
        await client.quit()
      } catch {
        client.disconnect()
      }
    },
  }
}
