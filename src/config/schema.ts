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

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

const allowRule = z
  .object({
    method: z
      .preprocess(
        (value) => (typeof value === 'string' ? value.toUpperCase() : value),
        z.enum([...HTTP_METHODS, '*']),
      )
      .describe('HTTP method the rule allows (any case); * = every method'),
    path: z
      .string()
      .regex(
        /^\/(api\/rest\/2\.0|callosum\/v1)(\/[^/]+)+$/,
        'must start with /api/rest/2.0/ or /callosum/v1/ and have no empty segment',
      )
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
        metricsPort: port.nullable().default(null),
        cors: z
          .object({ origins: z.array(origin).default([]) })
          .strict()
          .prefault({}),
      })
      .strict()
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
          .default('tsbff.sid')
          .describe('name of the session cookie'),
        ttlSeconds: positiveInt.default(28_800),
        /** Path of a file holding the session secret(s); prefer SESSION_SECRET_FILE. */
        secretFile: z.string().min(1).nullable().default(null),
      })
      .strict()
      .prefault({}),
    rateLimits: z
      .object({
        perIpPerMinute: positiveInt.default(600),
        perUserPerMinute: positiveInt.default(300),
        mintsPerUserPerMinute: positiveInt.default(10),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        url: z.string().min(1).nullable().default(null),
        keyPrefix: z
          .string()
          .default('tsbff:')
          .describe('prefix of every Redis key, so that two deployments can share one Redis'),
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
