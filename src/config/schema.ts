/**
 * The config file's schema (SPEC §2). Every object is `.strict()` so an unknown key fails with its
 * path; every key but the ThoughtSpot host and the identity key source has a default, and
 * `config/default.yaml` documents each one.
 */
import { z } from 'zod'

const port = z.number().int().min(0).max(65535)
const positiveInt = z.number().int().positive()

/** An absolute http(s) URL without credentials; the trailing slash is dropped. */
const httpUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value)
      return (
        (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password
      )
    } catch {
      return false
    }
  }, 'must be an http(s) URL without credentials')
  .transform((value) => value.replace(/\/+$/, ''))

/** A Redis URL: redis:// or rediss:// (TLS), optionally with user, password and a db number. */
const redisUrl = z.string().refine((value) => {
  try {
    const url = new URL(value)
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== ''
  } catch {
    return false
  }
}, 'must be a redis:// or rediss:// URL, e.g. redis://:password@redis:6379/0')

/** A ThoughtSpot org id as a map key (YAML and JSON keys are strings): 0 or a positive integer. */
const ORG_ID = /^(0|[1-9]\d{0,9})$/

/** An origin: scheme://host[:port], nothing else. `*` and `null` are refused on purpose. */
const origin = z
  .string()
  .refine((value) => {
    try {
      return new URL(value).origin === value.replace(/\/$/, '')
    } catch {
      return false
    }
  }, 'must be an origin such as https://app.example.com (no path, no wildcard)')
  .transform((value) => value.replace(/\/$/, ''))

/** `1mb`, `512kb`, `1048576`: normalised to bytes. */
const byteSize = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(value.trim())
  if (!match?.[1]) {
    ctx.addIssue({ code: 'custom', message: 'must be a size such as 1mb, 512kb or a byte count' })
    return z.NEVER
  }
  const unit = (match[2] ?? 'b').toLowerCase()
  const factor = unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1
  return Number(match[1]) * factor
})

/**
 * The session cookie's default name. `__Host-` makes browsers insist on Secure, Path=/ and no
 * Domain, so a sibling subdomain cannot plant or overwrite it. Demo mode serves plain http,
 * where browsers refuse such a cookie, and uses {@link DEMO_SESSION_COOKIE_NAME} instead.
 */
export const SESSION_COOKIE_NAME = '__Host-tsbff.sid'

/** The session cookie's name in demo mode (plain http) while the default name is configured. */
export const DEMO_SESSION_COOKIE_NAME = 'tsbff.sid'

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

const allowRule = z
  .object({
    method: z
      .preprocess(
        (value) => (typeof value === 'string' ? value.toUpperCase() : value),
        z.enum([...HTTP_METHODS, '*']),
      )
      .describe('HTTP method the rule allows (any case); * = every method'),
    // What the pattern can match is checked by the allowlist itself (proxy/allowlist.ts).
    path: z
      .string()
      .min(1)
      .describe(
        'upstream path pattern under /api/rest/2.0/ or /callosum/v1/: * = one segment, ** = any tail',
      ),
    groups: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('only users mapped to at least one of these groups may make the call'),
  })
  .strict()

export const configSchema = z
  .object({
    server: z
      .object({
        port: port.default(3000).describe('listen port'),
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe('listen address; the Dockerfile sets 0.0.0.0'),
        /** true = one proxy in front (the usual TLS terminator); a number = that many hops. */
        trustProxy: z.union([z.boolean(), z.number().int().min(1).max(10)]).default(false),
        publicOrigin: origin.nullable().default(null),
        bodyLimit: byteSize.default(1024 * 1024),
        /** Listener limits (http/server.ts); config/default.yaml says why each default. */
        headersTimeoutMs: positiveInt.default(10_000),
        requestTimeoutMs: positiveInt.default(30_000),
        keepAliveTimeoutMs: positiveInt.default(65_000),
        maxHeaderBytes: byteSize.default(16 * 1024),
        metricsPort: port
          .nullable()
          .default(null)
          .describe(
            'serve /metrics on this port only (keep it off the public network); null = on the main port',
          ),
        /** SIGTERM: how long in-flight requests may take to finish before they are cut. */
        shutdownTimeoutMs: positiveInt.default(20_000),
        cors: z
          .object({ origins: z.array(origin).default([]) })
          .strict()
          .prefault({}),
      })
      .strict()
      .superRefine((server, ctx) => {
        // Node refuses to start a listener whose head timeout is longer than its request timeout.
        // (A request timeout that is itself invalid is reported alone.)
        if (server.requestTimeoutMs > 0 && server.headersTimeoutMs > server.requestTimeoutMs) {
          ctx.addIssue({
            code: 'custom',
            path: ['headersTimeoutMs'],
            message: `must not be more than server.requestTimeoutMs (${server.requestTimeoutMs})`,
          })
        }
      })
      .prefault({}),
    thoughtspot: z
      .object({
        host: httpUrl
          .nullable()
          .default(null)
          .describe(
            'ThoughtSpot base URL, e.g. https://acme.thoughtspot.cloud; null outside production = demo mode',
          ),
        /** Path of a file holding the secret key; prefer TS_SECRET_KEY_FILE. */
        secretKeyFile: z.string().min(1).nullable().default(null),
        /** Orgs with a trusted-auth key of their own: org id → path of the file holding it. */
        orgSecretKeyFiles: z
          .record(z.string(), z.string().min(1))
          .superRefine((files, ctx) => {
            // Checked here rather than as the record's key schema, so the message names the key.
            for (const key of Object.keys(files)) {
              if (!ORG_ID.test(key)) {
                ctx.addIssue({
                  code: 'custom',
                  path: [key],
                  message: 'must be an org id (a whole number)',
                })
              }
            }
          })
          .default({})
          .describe(
            'org id → file holding that org’s own trusted-auth key; users mapped to other orgs are minted with the cluster key',
          ),
        authApi: z.enum(['v2', 'v1']).default('v2'),
        timeoutMs: positiveInt.default(10_000),
        maxConcurrency: positiveInt.default(64),
        maxRequestsPerSecond: positiveInt.default(80),
        queueTimeoutMs: z.number().int().min(0).default(2000),
      })
      .strict()
      .prefault({}),
    tokens: z
      .object({
        validitySeconds: z.number().int().min(30).max(86_400).default(300),
        minRemainingSeconds: z.number().int().min(0).default(120),
      })
      .strict()
      .prefault({}),
    identity: z
      .object({
        jwksUrl: httpUrl.nullable().default(null),
        publicKeyFile: z.string().min(1).nullable().default(null),
        /** Path of a file holding the HS256 secret; prefer IDENTITY_HS256_SECRET(_FILE). */
        hs256SecretFile: z.string().min(1).nullable().default(null),
        issuer: z.string().min(1).nullable().default(null),
        audience: z.string().min(1).nullable().default(null),
        usernameClaim: z.string().min(1).default('sub'),
        /** `lower` lower-cases every username; ThoughtSpot and the mapping's `users:` must agree. */
        usernameCase: z.enum(['preserve', 'lower']).default('preserve'),
        emailClaim: z.string().min(1).default('email'),
        displayNameClaim: z.string().min(1).default('name'),
        clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
      })
      .strict()
      .prefault({}),
    session: z
      .object({
        cookieName: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9._-]')
          .default(SESSION_COOKIE_NAME)
          .describe('name of the session cookie (demo mode: tsbff.sid)'),
        ttlSeconds: positiveInt.default(28_800),
        /** Path of a file holding the session secret(s); prefer SESSION_SECRET_FILE. */
        secretFile: z.string().min(1).nullable().default(null),
        /** Live sessions per user; a login past it ends the user's oldest session. */
        maxPerUser: positiveInt.default(5),
        /** The in-memory store's size; past it the least recently used session is dropped. */
        memoryMaxSessions: positiveInt.default(100_000),
        /** Largest JSON size of the claims a session (or a token's ledger entry) keeps. */
        maxClaimsBytes: byteSize.default(8192),
      })
      .strict()
      .prefault({}),
    rateLimits: z
      .object({
        perIpPerMinute: positiveInt.default(600),
        perUserPerMinute: positiveInt.default(300),
        mintsPerUserPerMinute: positiveInt.default(10),
        loginsPerUserPerMinute: positiveInt.default(10),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        /** `redis://` or `rediss://` (TLS), with user and password when Redis needs them. */
        url: redisUrl.nullable().default(null),
        keyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9._:-], e.g. "tsbff:"')
          .default('tsbff:')
          .describe('prefix of every Redis key, so that two deployments can share one Redis'),
      })
      .strict()
      .prefault({}),
    audit: z
      .object({
        destination: z
          .string()
          .min(1)
          .default('stdout')
          .describe(
            'where audit lines go: stdout (with the other log lines) or the path of a file, appended to and reopened on SIGHUP',
          ),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info'),
      })
      .strict()
      .prefault({}),
    proxy: z
      .object({ allow: z.array(allowRule).default([]) })
      .strict()
      .prefault({}),
  })
  .strict()

export type FileConfig = z.output<typeof configSchema>
export type AllowRule = z.output<typeof allowRule>
