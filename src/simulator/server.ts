/**
 * A local ThoughtSpot for demo mode, docker-compose and tests: a real HTTP server that enforces
 * the trusted-auth and REST rules the BFF depends on and records every call that reaches it.
 *
 * Each request goes: fault switch → read body (≤ 5 MiB) → record → fault answer or route →
 * answer (its status written into the record first, so a test sees it as soon as it has the
 * response).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { authV1Routes } from './auth-v1.js'
import { allowedOrigin, checkOrigins, corsHeaders, isPreflight, preflightAnswer } from './cors.js'
import { embedPageRoutes } from './embed-page.js'
import { mintRoutes } from './auth-v2.js'
import { dataV1Routes } from './data-v1.js'
import { dataRoutes } from './data.js'
import {
  errorAnswer,
  isJsonType,
  mediaType,
  parseCookies,
  parseForm,
  FORM_TYPE,
  SimError,
  V1,
  type Answer,
  type Context,
  type Handler,
} from './http.js'
import { faultAnswer, waitFor } from './faults.js'
import { sessionRoutes } from './session-v2.js'
import { SimulatorState, type RecordedCall } from './state.js'

export { SimulatorState } from './state.js'
export type {
  AccessType,
  AccountType,
  FaultMode,
  GarbageKind,
  FaultOptions,
  FilterRule,
  NewUser,
  PersistOption,
  RecordedCall,
  SimSession,
  SimToken,
  SimUser,
  TokenApi,
  VariableValue,
} from './state.js'
export { CATALOGUE, REPORT_SIZE, type CatalogueEntry } from './fake-data.js'
export { GARBAGE_KINDS } from './state.js'

/** Options of `startSimulator`; only `secretKey` is required. */
export interface SimulatorOptions {
  secretKey: string
  /**
   * Orgs with a trusted-auth key of their own (orgId → key): that key mints in its org only,
   * while `secretKey` (the Primary Org's) mints in every org. `state.orgSecretKeys` can change.
   */
  orgSecretKeys?: Record<number, string>
  /** Default '127.0.0.1'. */
  host?: string
  /** Default 0: an ephemeral port. */
  port?: number
  /** Groups that already exist (default: embed_viewers, analysts, executives). */
  groups?: string[]
  /** Org ids that exist besides 0 (default none). */
  orgs?: number[]
  /**
   * Origins of the pages that embed this "cluster" (default none): CORS with credentials for
   * them, and they may frame the embed app. ThoughtSpot's "CORS whitelisted domains" and "CSP
   * visual embed hosts" in one list. `state.embedOrigins` can change it later.
   */
  embedOrigins?: string[]
  /** Millisecond clock for every expiry; tests pass a fake one. Default Date.now. */
  now?: () => number
  /** Cookie-session idle lifetime, default 30 minutes. */
  sessionTtlMs?: number
  /** No log line per call. */
  quiet?: boolean
}

/** A running simulator. */
export interface Simulator {
  /** Base URL, e.g. 'http://127.0.0.1:40123'. */
  url: string
  state: SimulatorState
  /** Stops listening, drops open sockets (keep-alive and pending 'slow' calls) and timers. */
  close(): Promise<void>
}

/** Larger request bodies get 413. */
export const BODY_LIMIT = 5 * 1024 * 1024
/** Groups that exist when `groups` is not given. */
export const DEFAULT_GROUPS: readonly string[] = ['embed_viewers', 'analysts', 'executives']
const DEFAULT_SESSION_TTL_MS = 30 * 60 * 1000
const CHUNK = 16 * 1024

const ROUTES = new Map<string, Map<string, Handler>>()
for (const route of [
  ...mintRoutes,
  ...sessionRoutes,
  ...dataRoutes,
  ...authV1Routes,
  ...dataV1Routes,
  ...embedPageRoutes,
]) {
  const methods = ROUTES.get(route.path) ?? new Map<string, Handler>()
  methods.set(route.method, route.handle)
  ROUTES.set(route.path, methods)
}

interface Runtime {
  state: SimulatorState
  quiet: boolean
  /** Resolves true after `ms`, or false when the call or the simulator goes away first. */
  wait(ms: number, res: ServerResponse): Promise<boolean>
}

/**
 * Starts a simulator on `host:port` and resolves once it listens.
 *
 * @example
 * const sim = await startSimulator({ secretKey: 'test-secret', quiet: true })
 * await fetch(`${sim.url}/api/rest/2.0/auth/token/full`, { method: 'POST', … })
 * await sim.close()
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  if (typeof options.secretKey !== 'string' || options.secretKey === '') {
    throw new TypeError('"secretKey" option must be a non-empty string')
  }
  const state = new SimulatorState({
    secretKey: options.secretKey,
    orgSecretKeys: new Map(
      Object.entries(options.orgSecretKeys ?? {}).map(([org, key]) => [Number(org), key]),
    ),
    groups: options.groups ?? DEFAULT_GROUPS,
    orgs: options.orgs ?? [],
    embedOrigins: checkOrigins(options.embedOrigins ?? []),
    now: options.now ?? Date.now,
    sessionTtlMs: options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
  })
  const cancels = new Set<() => void>()
  const runtime: Runtime = {
    state,
    quiet: options.quiet ?? false,
    wait: (ms, res) => waitFor(ms, res, cancels, state.slowCalls),
  }
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    serve(req, res, runtime).catch((error: unknown) => {
      // A simulator bug must not take the process down; name and message only, never the request.
      process.stderr.write(`ts-simulator: internal error ${String(error)}\n`)
      res.destroy()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const close = () =>
    new Promise<void>((resolve) => {
      for (const cancel of cancels) cancel()
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    })
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, state, close }
}

async function serve(req: IncomingMessage, res: ServerResponse, runtime: Runtime): Promise<void> {
  const target = req.url ?? '/'
  const queryAt = target.indexOf('?')
  const path = queryAt < 0 ? target : target.slice(0, queryAt)
  const query = queryAt < 0 ? '' : target.slice(queryAt + 1)
  const base = { method: req.method ?? 'GET', path, query, headers: { ...req.headers } }
  const origin = allowedOrigin(req.headers, runtime.state.embedOrigins)
  const fault = runtime.state.takeFault(path)
  const turn = fault?.served // now: concurrent calls under the same fault count on
  if (fault?.mode === 'down') {
    runtime.state.record({ ...base, body: Buffer.alloc(0) })
    req.socket.destroy()
    return
  }
  const received = await readBody(req)
  const call = runtime.state.record({
    ...base,
    body: received.body,
    ...parseBody(req, received.body),
  })
  if (received.aborted) return
  if (fault) {
    const answer = faultAnswer(fault, path, turn)
    if (answer) return send(res, call, withCors(answer, origin), runtime)
    if (!(await runtime.wait(fault.delayMs, res))) return
  }
  if (isPreflight(base.method, req.headers)) {
    return send(res, call, preflightAnswer(origin), runtime)
  }
  const ctx: Context = {
    req,
    call,
    state: runtime.state,
    query: new URLSearchParams(query),
    cookies: parseCookies(req.headers.cookie),
  }
  send(res, call, withCors(dispatch(ctx, received.tooLarge), origin), runtime)
}

/** The answer, readable by a listed embedding origin. */
function withCors(answer: Answer, origin: string | undefined): Answer {
  if (origin !== undefined) Object.assign(answer.headers, corsHeaders(origin))
  return answer
}

interface Received {
  body: Buffer
  tooLarge: boolean
  aborted: boolean
}

/** Reads the body; past the limit it drains the rest unstored, so the client still sees the 413. */
function readBody(req: IncomingMessage): Promise<Received> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return
      const room = BODY_LIMIT - size
      tooLarge = chunk.length > room
      chunks.push(tooLarge ? chunk.subarray(0, room) : chunk)
      size += Math.min(chunk.length, room)
    })
    const done = (aborted: boolean) => resolve({ body: Buffer.concat(chunks), tooLarge, aborted })
    req.once('end', () => done(false))
    req.once('error', () => done(true))
    req.once('close', () => done(!req.complete))
  })
}

/** The parsed forms the recorder keeps beside the raw bytes. */
function parseBody(req: IncomingMessage, body: Buffer): Pick<RecordedCall, 'json' | 'form'> {
  const type = mediaType(req.headers['content-type'])
  if (type === FORM_TYPE) return { form: parseForm(body.toString('utf8')) }
  if (!isJsonType(type) || body.length === 0) return {}
  try {
    return { json: JSON.parse(body.toString('utf8')) as unknown }
  } catch {
    return {}
  }
}

function dispatch(ctx: Context, tooLarge: boolean): Answer {
  const { path, method } = ctx.call
  try {
    if (tooLarge) throw new SimError(413, 'The request body is too large')
    // ThoughtSpot's CSRF guard: every v1 call must say who sends it, unless it carries a bearer
    // token, which a browser never attaches on its own (the Visual Embed SDK reads session/info
    // with one and no X-Requested-By), or is the read-only isactive check, which the SDK's
    // cookie flow sends bare.
    const bearer = /^bearer /i.test(ctx.req.headers.authorization ?? '')
    const exempt = bearer || (method === 'GET' && path === `${V1}/session/isactive`)
    if (path.startsWith(`${V1}/`) && !ctx.req.headers['x-requested-by'] && !exempt) {
      throw new SimError(400, 'The X-Requested-By header is required')
    }
    const methods = ROUTES.get(path)
    if (!methods) throw new SimError(404, 'No such endpoint')
    const handle = methods.get(method)
    if (!handle) {
      throw new SimError(405, 'Method not allowed', { allow: [...methods.keys()].join(', ') })
    }
    return handle(ctx)
  } catch (error) {
    if (!(error instanceof SimError)) {
      // A simulator bug: say so on stderr (name and message only, never the request).
      process.stderr.write(`ts-simulator: internal error ${String(error)}\n`)
      return errorAnswer(path, 500, 'Internal server error')
    }
    const answer = errorAnswer(path, error.status, error.message)
    Object.assign(answer.headers, error.headers)
    return answer
  }
}

function send(res: ServerResponse, call: RecordedCall, answer: Answer, runtime: Runtime): void {
  // A client that went away got no answer: its record keeps status 0.
  if (res.destroyed) return
  call.status = answer.status
  if (!runtime.quiet) {
    process.stdout.write(`ts-simulator: ${call.method} ${call.path} ${answer.status}\n`)
  }
  const body = answer.body
  if (!body) {
    // A bodiless 200 says so: without a length it goes out chunked, and a browser that never
    // reads the empty body reports the request as aborted.
    const length = answer.status === 204 || answer.status === 304 ? {} : { 'content-length': '0' }
    res.writeHead(answer.status, { ...answer.headers, ...length }).end()
  } else if (answer.cutOff) {
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) })
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy())
  } else if (!answer.chunked) {
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) })
    res.end(body)
  } else {
    res.writeHead(answer.status, answer.headers)
    for (let at = 0; at < body.length; at += CHUNK) res.write(body.subarray(at, at + CHUNK))
    res.end()
  }
}
