// The demo page: uses the BFF exactly as an embedding app would. The app's identity provider
// (here the demo one) signs a JWT, the BFF turns it into an HttpOnly session cookie, and from then
// on every call is cookie-authenticated. No token or JWT is ever stored by this page.

const $ = (id) => document.getElementById(id)
const SIGNED_IN_FLAG = 'tsbff-demo:signed-in' // a hint only: the cookie itself is HttpOnly
const MAX_HISTORY = 6
const MAX_ACTIVITY = 12

/** An error answer from the BFF: `{ error: { code, message, requestId } }`. */
class BffError extends Error {
  constructor(status, error, requestId) {
    super(error?.message ?? `The BFF answered ${status}.`)
    this.status = status
    this.code = error?.code ?? `HTTP_${status}`
    this.requestId = error?.requestId ?? requestId
  }
}

let signedIn = false
let busy = false // one request flow at a time
let token = null // the last token received, to tell a cached one from a new one
let tokenCount = 0

/** Calls the BFF on this origin; JSON in and out; throws BffError on a non-2xx answer. */
async function call(method, path, { headers = {}, body, note = '' } = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json', ...headers },
  }
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(path, init)
  } catch {
    logActivity(method, path, 'failed', '', note)
    throw new BffError(0, { code: 'NETWORK', message: 'The BFF could not be reached.' }, '')
  }
  const requestId = response.headers.get('x-request-id') ?? ''
  logActivity(method, path, response.status, requestId, note)
  if (response.status === 204) return null
  const data = await response.json().catch(() => null)
  if (!response.ok) throw new BffError(response.status, data?.error, requestId)
  return data
}

// ---- rendering ----

function formatTime(iso) {
  const date = new Date(iso)
  const seconds = Math.round((date.getTime() - Date.now()) / 1000)
  const relative =
    seconds <= 0
      ? 'expired'
      : seconds < 120
        ? `in ${seconds} s`
        : seconds < 7200
          ? `in ${Math.round(seconds / 60)} min`
          : `in ${Math.round(seconds / 3600)} h`
  return `${date.toLocaleTimeString()} (${relative})`
}

function showTime(element, iso) {
  element.dateTime = iso
  element.title = iso
  element.textContent = formatTime(iso)
}

function refreshTimes() {
  for (const element of document.querySelectorAll('time[datetime]')) {
    element.textContent = formatTime(element.dateTime)
  }
}

const shortToken = (value) => (value.length > 16 ? `${value.slice(0, 12)}…` : value)

function showError(err) {
  $('error-code').textContent = err.code ?? 'ERROR'
  $('error-message').textContent = err.message
  $('error-request-id').textContent = err.requestId || '—'
  $('error').hidden = false
}

function clearError() {
  $('error').hidden = true
}

function logActivity(method, path, status, requestId, note) {
  const item = document.createElement('li')
  const ok = typeof status === 'number' && status < 400
  item.className = ok ? 'ok' : 'bad'
  const line = document.createElement('span')
  line.className = 'request'
  line.textContent = `${method} ${path} → ${status}`
  item.append(line)
  if (note) {
    const small = document.createElement('small')
    small.textContent = note
    item.append(small)
  }
  if (requestId) {
    const id = document.createElement('small')
    id.className = 'request-id'
    id.textContent = `x-request-id ${requestId}`
    item.append(id)
  }
  const list = $('activity')
  list.prepend(item)
  while (list.children.length > MAX_ACTIVITY) list.lastElementChild.remove()
  $('activity-empty').hidden = true
}

function updateButtons() {
  for (const id of ['login-alice', 'login-bob']) $(id).disabled = busy
  for (const id of ['logout', 'get-token', 'fresh-token']) $(id).disabled = busy || !signedIn
  if (busy) document.body.setAttribute('aria-busy', 'true')
  else document.body.removeAttribute('aria-busy')
}

function setSignedIn(value) {
  signedIn = value
  if (value) sessionStorage.setItem(SIGNED_IN_FLAG, '1')
  else sessionStorage.removeItem(SIGNED_IN_FLAG)
  updateButtons()
}

function showSession(session, source) {
  $('session-username').textContent = session.username
  const chips = session.groups.map((group) => {
    const chip = document.createElement('li')
    chip.textContent = group
    return chip
  })
  if (chips.length === 0) {
    chips.push(document.createElement('li'))
    chips[0].className = 'none'
    chips[0].textContent = 'none'
  }
  $('session-groups').replaceChildren(...chips)
  $('session-org').textContent = String(session.orgId)
  $('session-access').textContent = session.accessLevel
  showTime($('session-expires'), session.expiresAt)
  $('session-source').textContent = source
  $('session').hidden = false
  $('session-empty').hidden = true
  setSignedIn(true)
}

function clearToken() {
  token = null
  tokenCount = 0
  $('token').hidden = true
  $('token-empty').hidden = false
  $('token-value').textContent = ''
  $('token-history').replaceChildren()
}

function clearSession(message = 'Not signed in.') {
  $('session').hidden = true
  $('session-empty').hidden = false
  $('session-empty').textContent = message
  $('session-source').textContent = ''
  $('session-groups').replaceChildren()
  setSignedIn(false)
  clearToken()
}

function showToken(answer, fresh) {
  const previous = token
  token = answer.token
  tokenCount += 1
  $('token-value').textContent = shortToken(answer.token)
  $('token-value').title =
    `${answer.token.length} characters; Copy puts the whole token on the clipboard`
  showTime($('token-expires'), answer.expiresAt)
  $('token').hidden = false
  $('token-empty').hidden = true

  let what
  if (previous === null) what = 'token received'
  else if (answer.token === previous) what = 'same token as before: served from the BFF’s cache'
  else if (fresh) what = 'new token minted (forced)'
  else what = 'new token minted (the cached one was close to expiry)'
  const item = document.createElement('li')
  item.className = answer.token === previous ? 'cached' : 'new'
  const value = document.createElement('code')
  value.textContent = shortToken(answer.token)
  item.append(`#${tokenCount} `, value, ` — ${what}`)
  const list = $('token-history')
  list.prepend(item)
  while (list.children.length > MAX_HISTORY) list.lastElementChild.remove()
}

// ---- actions ----

/** Runs one request flow at a time: buttons are disabled meanwhile, and errors are shown. */
function action(run) {
  return async (event) => {
    if (busy) return
    busy = true
    updateButtons()
    clearError()
    try {
      await run(event)
    } catch (err) {
      showError(err)
      if (err.status === 401) clearSession('Not signed in: the session has ended.')
    } finally {
      busy = false
      updateButtons()
    }
  }
}

async function login(event) {
  const user = event.currentTarget.dataset.user
  const { jwt } = await call('POST', '/demo/idp/login', {
    body: { user },
    note: 'the app’s identity provider signs an app JWT',
  })
  const session = await call('POST', '/ts/session', {
    headers: { Authorization: `Bearer ${jwt}` },
    note: 'Authorization: Bearer <app JWT> → HttpOnly session cookie',
  })
  clearToken()
  showSession(session, 'From the login answer (POST /ts/session).')
  const current = await call('GET', '/ts/session', { note: 'authenticated by the cookie alone' })
  showSession(current, 'Confirmed by GET /ts/session, authenticated by the cookie alone.')
}

async function getToken(event) {
  const fresh = event.currentTarget.id === 'fresh-token'
  const answer = await call('GET', fresh ? '/ts/auth/token?fresh=true' : '/ts/auth/token', {
    note: fresh ? 'forces a new mint' : 'cached until shortly before expiry',
  })
  showToken(answer, fresh)
}

async function logout() {
  await call('DELETE', '/ts/session', {
    headers: { 'X-CSRF': '1' },
    note: 'X-CSRF: 1; revokes the user’s tokens and ends the session',
  })
  clearSession()
  $('session-empty').textContent = 'Signed out.'
}

async function copyToken() {
  if (token === null) return
  try {
    await navigator.clipboard.writeText(token)
    $('copy-token').textContent = 'Copied'
  } catch {
    $('copy-token').textContent = 'Copy failed'
  }
  setTimeout(() => ($('copy-token').textContent = 'Copy'), 1500)
}

/** After a reload, show the session the cookie still holds (only when one was made here). */
async function restore() {
  if (sessionStorage.getItem(SIGNED_IN_FLAG) !== '1') return
  try {
    showSession(await call('GET', '/ts/session'), 'Restored by GET /ts/session (cookie).')
  } catch {
    clearSession()
  }
}

$('login-alice').addEventListener('click', action(login))
$('login-bob').addEventListener('click', action(login))
$('get-token').addEventListener('click', action(getToken))
$('fresh-token').addEventListener('click', action(getToken))
$('logout').addEventListener('click', action(logout))
$('copy-token').addEventListener('click', copyToken)
setInterval(refreshTimes, 5000)
restore()
