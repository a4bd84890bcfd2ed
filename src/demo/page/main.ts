/**
 * The demo page: an embedding app in a few screens of code, using the BFF the way a real one
 * would. The app's IdP (here the demo one) signs a JWT, the BFF turns it into an HttpOnly session
 * cookie, and from then on:
 *   - the Visual Embed SDK (cookieless trusted auth) gets its tokens from GET /ts/auth/token;
 *   - the REST SDK calls ThoughtSpot through the BFF's proxy with the cookie and `X-CSRF: 1`.
 * The page keeps no JWT and no token beyond what the SDKs hold in memory.
 */
import {
  AuthStatus,
  AuthType,
  EmbedEvent,
  HostEvent,
  init,
  LiveboardEmbed,
} from '@thoughtspot/visual-embed-sdk'
import { createBasicConfig, ThoughtSpotRestApi } from '@thoughtspot/rest-api-sdk'

/** GET /demo/config: where ThoughtSpot and the BFF are, and who can sign in. */
interface DemoConfig {
  thoughtSpotHost: string
  /** '' when the BFF serves this page (same origin). */
  bffUrl: string
  liveboardId: string
  worksheetId: string
  users: { id: string; label: string; story: string; username: string }[]
}

/** GET /ts/session. */
interface Session {
  username: string
  groups: string[]
  orgId: number
  accessLevel: 'FULL' | 'REPORT_BOOK_VIEW'
  expiresAt: string
}

/** The BFF's error body: `{ error: { code, message, requestId } }`. */
interface ErrorBody {
  error?: { code?: string; message?: string; requestId?: string }
}

class BffError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string,
  ) {
    super(message)
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T

const config = (await (await fetch('demo/config')).json()) as DemoConfig
const bff = config.bffUrl === '' ? location.origin : config.bffUrl

let session: Session | null = null
let embed: LiveboardEmbed | null = null
let busy = false
let lastToken = ''
let tokens = 0
let tokenExpiresAt = 0
let tokenLifetime = 0

// ---- calls to the BFF ----

/** A JSON call to the BFF with the session cookie; throws BffError on an error answer. */
async function callBff(method: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${bff}${path}`, {
    method,
    credentials: 'include',
    headers: { Accept: 'application/json', ...headers },
  })
  if (response.status === 204) return null
  const body = (await response.json().catch(() => ({}))) as ErrorBody & Record<string, unknown>
  if (!response.ok) {
    throw new BffError(
      response.status,
      body.error?.code ?? `HTTP_${response.status}`,
      body.error?.message ?? `The BFF answered ${response.status}.`,
      body.error?.requestId ?? response.headers.get('x-request-id') ?? '',
    )
  }
  return body
}

/**
 * The SDK's token provider. It must return the token as a string, and throw when there is none:
 * a 401 (signed out) or 429 (too many mints) body is not a token, and the SDK then reports
 * AuthStatus.FAILURE instead of trying it. JSON is asked for only to show the expiry here; a
 * plain `r.text()` works the same.
 */
async function getAuthToken(): Promise<string> {
  const objectScoped = session?.accessLevel === 'REPORT_BOOK_VIEW'
  const query = objectScoped ? `?objectId=${encodeURIComponent(config.liveboardId)}` : ''
  const r = await fetch(`${bff}/ts/auth/token${query}`, {
    credentials: 'include',
    headers: { Accept: 'application/json' },
  })
  if (!r.ok) {
    logEvent('token', `GET /ts/auth/token → ${r.status}: no token for the SDK`, 'bad')
    throw new Error(`The BFF gave no token (${r.status})`)
  }
  const { token, expiresAt } = (await r.json()) as { token: string; expiresAt: string }
  showToken(token, expiresAt, objectScoped)
  return token
}

// ---- rendering ----

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string) {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  return node
}

function showError(error: unknown): void {
  const known = error instanceof BffError
  $('error-code').textContent = known ? error.code : 'ERROR'
  $('error-message').textContent = error instanceof Error ? error.message : String(error)
  $('error-request-id').textContent = known && error.requestId ? error.requestId : '—'
  $('error').hidden = false
}

function logEvent(kind: string, text: string, tone: 'ok' | 'bad' | 'info' = 'info'): void {
  const item = element('li')
  item.className = tone
  item.dataset.kind = kind
  item.append(element('time', new Date().toLocaleTimeString()), ` ${text}`)
  const list = $('sdk-events')
  list.prepend(item)
  while (list.children.length > 14) list.lastElementChild?.remove()
}

function setStatus(status: string, text: string, tone: 'ok' | 'bad' | 'info'): void {
  const badge = $('auth-status')
  badge.dataset.status = status
  badge.className = `status ${tone}`
  badge.textContent = text
}

function showSession(value: Session | null): void {
  session = value
  $('session').hidden = value === null
  $('session-empty').hidden = value !== null
  ;($('logout') as HTMLButtonElement).disabled = value === null
  document.querySelectorAll<HTMLButtonElement>('#users button').forEach((button) => {
    button.setAttribute('aria-pressed', String(button.dataset.user === value?.username))
  })
  if (!value) return
  $('session-username').textContent = value.username
  $('session-groups').replaceChildren(
    ...(value.groups.length ? value.groups : ['none']).map((group) => element('li', group)),
  )
  $('session-org').textContent = String(value.orgId)
  $('session-access').textContent = value.accessLevel
  const expires = $('session-expires')
  expires.setAttribute('datetime', value.expiresAt)
  expires.textContent = new Date(value.expiresAt).toLocaleString()
}

function showToken(token: string, expiresAt: string, objectScoped: boolean): void {
  const renewed = lastToken !== '' && token !== lastToken
  tokens += 1
  lastToken = token
  tokenExpiresAt = Date.parse(expiresAt)
  tokenLifetime = Math.max(1, tokenExpiresAt - Date.now())
  $('token').hidden = false
  $('token-empty').hidden = true
  $('token-kind').textContent = objectScoped
    ? 'object-scoped (REPORT_BOOK_VIEW): this liveboard only'
    : 'full access'
  $('token-count').textContent = `${tokens}× by the SDK`
  $('token').dataset.token = String(tokens)
  logEvent('token', renewed ? 'getAuthToken → a new token' : 'getAuthToken → a token', 'ok')
  tickToken()
}

function tickToken(): void {
  if (tokenExpiresAt === 0) return
  const left = Math.max(0, Math.round((tokenExpiresAt - Date.now()) / 1000))
  $('token-left').textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`
  $<HTMLMeterElement>('token-meter').value = Math.max(
    0,
    (tokenExpiresAt - Date.now()) / tokenLifetime,
  )
}

function clearToken(): void {
  $('token-empty').textContent = 'No token yet.'
  lastToken = ''
  tokens = 0
  tokenExpiresAt = 0
  $('token').hidden = true
  $('token-empty').hidden = false
}

function showTable(contents: { column_names?: string[]; data_rows?: unknown[][] } | undefined) {
  const table = $<HTMLTableElement>('rest-table')
  table.replaceChildren()
  const head = table.createTHead().insertRow()
  for (const name of contents?.column_names ?? []) head.append(element('th', name))
  const body = table.createTBody()
  for (const row of contents?.data_rows ?? []) {
    const tr = body.insertRow()
    for (const cell of row) {
      const td = element(
        'td',
        typeof cell === 'number'
          ? cell.toLocaleString('en-US', { maximumFractionDigits: 0 })
          : String(cell),
      )
      if (typeof cell === 'number') td.className = 'num'
      tr.append(td)
    }
  }
  table.hidden = false
}

// ---- the embedded liveboard ----

function stopEmbed(message: string): void {
  embed?.destroy()
  embed = null
  $('embed').replaceChildren(element('p', message))
}

/** Starts the SDK for the signed-in user: init (which drops any earlier user's token), render. */
function startEmbed(): void {
  stopEmbed('Loading…')
  $('embed').replaceChildren()
  setStatus('STARTING', 'authenticating…', 'info')
  const authEvents = init({
    thoughtSpotHost: config.thoughtSpotHost,
    authType: AuthType.TrustedAuthTokenCookieless,
    getAuthToken,
    autoLogin: true,
    disableSDKTracking: true, // no analytics calls: the demo runs offline
    suppressErrorAlerts: true, // failures show below instead of in alert()
    loginFailedMessage: 'Not signed in to ThoughtSpot: the BFF gives the SDK no token.',
  })
  authEvents
    ?.on(AuthStatus.SDK_SUCCESS, () => logEvent('auth', 'AuthStatus.SDK_SUCCESS', 'ok'))
    .on(AuthStatus.SUCCESS, () => {
      setStatus('SUCCESS', 'SUCCESS: the embedded app is signed in', 'ok')
      logEvent('auth', 'AuthStatus.SUCCESS', 'ok')
    })
    .on(AuthStatus.FAILURE, (type) => {
      // EXPIRY also fires when the SDK renewed the token successfully.
      const bad = String(type) !== 'EXPIRY'
      if (bad) setStatus('FAILURE', `FAILURE (${String(type)})`, 'bad')
      logEvent('auth', `AuthStatus.FAILURE ${String(type)}`, bad ? 'bad' : 'info')
    })
  embed = new LiveboardEmbed('#embed', {
    liveboardId: config.liveboardId,
    frameParams: { width: '100%', height: '380px' },
  })
  embed
    .on(EmbedEvent.Load, () => {
      $('embed').dataset.loaded = 'true'
      logEvent('embed', 'EmbedEvent.Load', 'ok')
    })
    .on(EmbedEvent.AuthInit, () => logEvent('embed', 'EmbedEvent.AuthInit', 'ok'))
    .on(EmbedEvent.LiveboardRendered, () => {
      $('embed').dataset.rendered = 'true'
      logEvent('embed', 'EmbedEvent.LiveboardRendered', 'ok')
    })
    .on(EmbedEvent.RefreshAuthToken, () =>
      logEvent('embed', 'EmbedEvent.RefreshAuthToken: the token is about to end'),
    )
    .on(EmbedEvent.AuthExpire, () => logEvent('embed', 'EmbedEvent.AuthExpire: token refused'))
  void embed.render()
}

// ---- REST through the BFF ----

/** The REST SDK pointed at the BFF: base URL `<bff>/ts` (no trailing slash), cookie + X-CSRF. */
function restClient(): ThoughtSpotRestApi {
  return new ThoughtSpotRestApi(
    createBasicConfig(`${bff}/ts`, { additionalHeaders: { 'X-CSRF': '1' } }),
  )
}

function describeFailure(error: unknown): string {
  const failure = error as { code?: number; body?: ErrorBody }
  if (typeof failure.code === 'number') {
    return `HTTP ${failure.code}\n${JSON.stringify(failure.body ?? null, null, 2)}`
  }
  return error instanceof Error ? error.message : String(error)
}

async function runRestCalls(): Promise<void> {
  const client = restClient()
  const status = $('rest-status')
  status.textContent = 'searchData…'
  status.dataset.state = 'running'
  try {
    const answer = await client.searchData({
      query_string: '[Region] [Total Sales]',
      logical_table_identifier: config.worksheetId,
    })
    showTable(answer.contents[0])
    status.textContent = 'Retail Sales, as this user may see it:'
    status.dataset.state = 'ok'
  } catch (error) {
    $('rest-table').hidden = true
    status.textContent = `Refused: ${describeFailure(error)}`
    status.dataset.state = 'refused'
  }
  try {
    await client.searchUsers({})
    $('refused').textContent = 'Unexpected: the call went through.'
  } catch (error) {
    $('refused').textContent = describeFailure(error)
  }
  $('refused').dataset.state = 'done'
}

// ---- sign in, sign out ----

/** Whether this tab made a session (a hint only: the cookie itself is HttpOnly). */
const SIGNED_IN = 'tsbff-demo:signed-in'

async function signIn(userId: string): Promise<void> {
  if (session) {
    // Switching user: the previous one is logged out first (an ended session is fine too).
    await signOut(false).catch((error: unknown) => {
      if (!(error instanceof BffError && error.status === 401)) throw error
    })
  }
  const idp = await fetch('demo/idp/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: userId }),
  })
  if (!idp.ok) throw new Error(`The demo IdP answered ${idp.status}`)
  const { jwt } = (await idp.json()) as { jwt: string }
  // The JWT is used once, here, and dropped: the session cookie carries the user from now on.
  await callBff('POST', '/ts/session', { Authorization: `Bearer ${jwt}` })
  await resume()
}

/** Shows the signed-in user and starts the embed and the REST calls for them. */
async function resume(): Promise<void> {
  showSession((await callBff('GET', '/ts/session')) as unknown as Session)
  sessionStorage.setItem(SIGNED_IN, '1')
  clearToken()
  startEmbed()
  await runRestCalls()
}

/**
 * DELETE /ts/session revokes the user's ThoughtSpot tokens and ends the session. Reloading the
 * embed then shows that it cannot authenticate any more: its token is refused and the BFF gives
 * the SDK no new one.
 */
async function signOut(reloadEmbed: boolean): Promise<void> {
  sessionStorage.removeItem(SIGNED_IN)
  await callBff('DELETE', '/ts/session', { 'X-CSRF': '1' })
  showSession(null)
  clearToken()
  $('token-empty').textContent = 'Revoked by the logout.'
  $('rest-table').hidden = true
  $('rest-status').textContent = 'Signed out.'
  $('refused').textContent = 'Sign in to try it.'
  if (reloadEmbed && embed) {
    logEvent('auth', 'Signed out: reloading the embed')
    void embed.trigger(HostEvent.Reload)
  } else {
    stopEmbed('Signed out.')
  }
}

function action(run: () => Promise<void>): () => void {
  return () => {
    if (busy) return
    busy = true
    document.body.setAttribute('aria-busy', 'true')
    $('error').hidden = true
    run()
      .catch((error: unknown) => {
        showError(error)
        if (error instanceof BffError && error.status === 401) showSession(null)
      })
      .finally(() => {
        busy = false
        document.body.removeAttribute('aria-busy')
      })
  }
}

for (const user of config.users) {
  const item = element('li')
  const button = element('button', user.label)
  button.type = 'button'
  button.id = `login-${user.id}`
  button.dataset.testid = `login-${user.id}`
  button.dataset.user = user.username
  button.setAttribute('aria-pressed', 'false')
  button.addEventListener(
    'click',
    action(() => signIn(user.id)),
  )
  item.append(button, element('small', user.story))
  $('users').append(item)
}
$('logout').addEventListener(
  'click',
  action(() => signOut(true)),
)
window.setInterval(tickToken, 1000)
document.body.dataset.ready = 'true'
// After a reload, carry on with the session the cookie still holds.
if (sessionStorage.getItem(SIGNED_IN) === '1') {
  action(() =>
    resume().catch((error: unknown) => {
      sessionStorage.removeItem(SIGNED_IN)
      throw error
    }),
  )()
}
