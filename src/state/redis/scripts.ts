/**
 * Lua scripts, so that each store operation that touches several keys is one atomic round trip.
 * They run on one Redis (keys are derived inside some scripts), so Redis Cluster is not supported;
 * a single primary, with or without a failover mechanism behind one address, is.
 */
import type { Redis } from 'ioredis'

/** A script callable as `(keys, args)`. */
export type Script = (
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
) => Promise<unknown>

/** Registers `lua` on `client` (EVALSHA, reloaded on NOSCRIPT by ioredis) and returns a caller. */
export function defineScript(client: Redis, name: string, keys: number, lua: string): Script {
  client.defineCommand(name, { numberOfKeys: keys, lua })
  // defineCommand adds the method at run time; ioredis' types cannot know its name.
  const command = (
    client as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>
  )[name]
  if (!command) throw new Error(`ioredis did not define ${name}`)
  return (k, a) => command.call(client, ...k, ...a)
}

/**
 * Token cache set. KEYS: entry, user's entry-key set, ledger, users. ARGV: sealed value, ttl ms,
 * entry key (for the set), sealed ledger member, expiresAt, now, ledger cap, user hash.
 */
export const TOKEN_SET = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
local expiresAt = tonumber(ARGV[5])
local now = tonumber(ARGV[6])
redis.call('ZADD', KEYS[3], expiresAt, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[7]) + 1))
local newest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
local keepUntil = math.max(expiresAt, tonumber(newest[2] or expiresAt))
redis.call('PEXPIREAT', KEYS[3], keepUntil)
redis.call('PEXPIREAT', KEYS[2], keepUntil)
local known = tonumber(redis.call('ZSCORE', KEYS[4], ARGV[8]) or 0)
if keepUntil > known then redis.call('ZADD', KEYS[4], keepUntil, ARGV[8]) end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
return 1
`

/**
 * Token cache take-all (logout). KEYS: user's entry-key set, ledger, users. ARGV: entry key
 * prefix, now, user hash. Deletes the user's entries and ledger; returns the live ledger members.
 */
export const TOKEN_TAKE_ALL = `
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('DEL', ARGV[1] .. key)
end
local live = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[2], '+inf')
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[3])
return live
`

/** Lock release: only the holder of the fencing token deletes the key. KEYS: lock. ARGV: token. */
export const LOCK_RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/**
 * Session tracking with a per-user cap. KEYS: the user's session index. ARGV: sid, expiresAt,
 * now, cap, session key prefix. Destroys the oldest sessions beyond the cap; returns their ids.
 */
export const SESSION_TRACK = `
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[3]))
local live = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if sid == ARGV[1] or redis.call('EXISTS', ARGV[5] .. sid) == 1 then
    table.insert(live, sid)
  else
    redis.call('ZREM', KEYS[1], sid)
  end
end
local evicted = {}
local extra = #live - tonumber(ARGV[4])
for i = 1, extra do
  local sid = live[i]
  if sid ~= ARGV[1] then
    redis.call('DEL', ARGV[5] .. sid)
    redis.call('ZREM', KEYS[1], sid)
    table.insert(evicted, sid)
  end
end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] then redis.call('PEXPIREAT', KEYS[1], tonumber(newest[2])) end
return evicted
`

/**
 * The upstream rate bucket. KEYS: bucket hash. ARGV: rate per second, burst, calls wanted. Uses
 * Redis' own clock, so replicas with skewed clocks share one rate. Returns {granted, wait ms}.
 */
export const BUCKET_TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local granted = math.max(0, math.min(wanted, math.floor(tokens)))
tokens = tokens - granted
local wait = 0
if granted == 0 then wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {granted, wait}
`
