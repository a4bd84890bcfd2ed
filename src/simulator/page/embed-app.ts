/**
 * The simulator's embed app: the page the Visual Embed SDK loads in its iframe. It speaks the
 * SDK's postMessage protocol the way ThoughtSpot's app does — ask the host for `appInit` (the
 * cookieless token comes back in the answer), confirm with `authInit`, ask again with
 * `RefreshAuthToken` before the token expires and with `ThoughtspotAuthExpired` when a call is
 * refused — and draws a small liveboard (a table and a bar chart) or a search answer from the
 * simulator's data, fetched with the user's own token. Plain and clearly labelled: a stand-in,
 * not a copy of ThoughtSpot's UI.
 */

/** What the iframe URL asks for: `#/embed/viz/<liveboard>[/<viz>]` or `#/embed/answer`. */
type View =
  | { kind: 'liveboard'; liveboardId: string; vizId: string | undefined }
  | { kind: 'search'; dataSource: string | undefined; query: string | undefined }
  | { kind: 'none' }

interface SessionInfo {
  userName: string
  userDisplayName: string
  userGUID: string
  userGroups: string[]
  currentOrgId: number
  expirationTime: number
}

interface Contents {
  column_names: string[]
  data_rows: (string | number)[][]
  visualization_id?: string
  visualization_name?: string
}

/** Thrown when a call stays refused after the host was asked for a new token. */
class NotAuthenticated extends Error {}

const params = new URLSearchParams(location.search)
const cookieless = params.get('cookieless') === 'true'
const content = document.getElementById('content') as HTMLElement
/** The default question of a search embed: the Retail Sales worksheet, sales by region. */
const DEFAULT_QUERY = '[Region] [Total Sales]'
const RETAIL_SALES = 'Retail Sales'

let token = ''
let tokenExpiresAt = 0
let renewals = 0
let refreshTimer: number | undefined
let loads = 0

function viewOf(hash: string): View {
  const path = hash.replace(/^#/, '').split('?')[0] ?? ''
  const viz = /^\/embed\/viz\/([^/]+)(?:\/tab\/[^/]+)?(?:\/([^/]+))?$/.exec(path)
  if (viz?.[1]) return { kind: 'liveboard', liveboardId: viz[1], vizId: viz[2] }
  if (/^\/embed\/(answer|saved-answer\/[^/]+)$/.test(path)) {
    const sources = params.get('dataSources') ?? params.get('dataSource')
    let dataSource: string | undefined
    try {
      dataSource = sources ? ([] as string[]).concat(JSON.parse(sources) as string)[0] : undefined
    } catch {
      dataSource = sources ?? undefined
    }
    const query = params.get('searchTokenString') ?? params.get('searchQuery') ?? undefined
    return { kind: 'search', dataSource, query }
  }
  return { kind: 'none' }
}

// ---- the postMessage protocol ----

/** Posts an event to the host page; with `answer`, waits for the SDK's reply on a new channel. */
function post(type: string, data: unknown = {}): void {
  window.parent.postMessage({ type, data }, '*')
}

function ask(type: string, data: unknown = {}): Promise<{ type?: string; data?: unknown }> {
  const channel = new MessageChannel()
  return new Promise((resolve) => {
    channel.port1.onmessage = (event: MessageEvent<{ type?: string; data?: unknown }>) => {
      channel.port1.close()
      resolve(event.data)
    }
    window.parent.postMessage({ type, data }, '*', [channel.port2])
  })
}

/** The token in an SDK answer (`appInit`, `RefreshAuthToken`, `ThoughtspotAuthExpired`). */
function tokenIn(answer: { data?: unknown }): string {
  const data = answer.data as { authToken?: unknown } | undefined
  return typeof data?.authToken === 'string' ? data.authToken : ''
}

/** Host events (the SDK's `trigger`) wait for an answer: acknowledge them, they change nothing. */
window.addEventListener('message', (event: MessageEvent<{ type?: unknown }>) => {
  if (event.source !== window.parent || event.ports.length === 0) return
  event.ports[0]?.postMessage({ type: event.data.type, data: {} })
})

// ---- calls to the simulator, with the user's token ----

async function call(path: string, body?: unknown): Promise<Response> {
  // X-Requested-By: what ThoughtSpot's own app sends, and what its CSRF guard asks of cookie calls.
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'X-Requested-By': 'ThoughtSpot',
  }
  if (cookieless) headers.Authorization = `Bearer ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  return fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

/** A JSON call; on 401 it asks the host for a new token once and tries again. */
async function callJson<T>(path: string, body?: unknown): Promise<T> {
  let response = await call(path, body)
  if (response.status === 401 && cookieless) {
    showNote('The token was refused: asking the host app for a new one…')
    const renewed = tokenIn(await ask('ThoughtspotAuthExpired'))
    if (renewed) {
      adoptToken(renewed)
      response = await call(path, body)
    }
  }
  if (response.status === 401) throw new NotAuthenticated('not authenticated')
  if (!response.ok) throw new Error(`${path} answered ${response.status}`)
  return (await response.json()) as T
}

function adoptToken(value: string): void {
  if (value !== token) renewals += token === '' ? 0 : 1
  token = value
}

/** Asks for a fresh token shortly before this one ends, as ThoughtSpot's app does. */
function scheduleRefresh(): void {
  window.clearTimeout(refreshTimer)
  const left = tokenExpiresAt - Date.now()
  if (!cookieless || left <= 0) return
  const lead = Math.min(60_000, left / 5)
  refreshTimer = window.setTimeout(() => void refresh(), left - lead)
}

async function refresh(): Promise<void> {
  const before = tokenExpiresAt
  const renewed = tokenIn(await ask('RefreshAuthToken'))
  if (!renewed) return
  adoptToken(renewed)
  await run(false)
  // A token that ends no later than the old one would make the timer fire again at once.
  if (tokenExpiresAt <= before) window.clearTimeout(refreshTimer)
}

// ---- rendering ----

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  if (className) node.className = className
  return node
}

function showNote(text: string): void {
  content.replaceChildren(element('p', text, 'sim-note'))
}

const format = (value: string | number): string =>
  typeof value === 'number' ? value.toLocaleString('en-US', { maximumFractionDigits: 0 }) : value

function table(contents: Contents): HTMLTableElement {
  const node = element('table')
  const head = node.createTHead().insertRow()
  for (const name of contents.column_names) head.append(element('th', name))
  const body = node.createTBody()
  for (const row of contents.data_rows) {
    const tr = body.insertRow()
    for (const cell of row)
      tr.append(element('td', format(cell), typeof cell === 'number' ? 'num' : ''))
  }
  return node
}

const SVG = 'http://www.w3.org/2000/svg'

function svg(tag: string, attributes: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

/** A bar chart of the first number column against the first column. */
function barChart(contents: Contents): SVGElement {
  const valueAt = contents.data_rows[0]?.findIndex((cell) => typeof cell === 'number') ?? -1
  const rows = contents.data_rows.map((row) => ({
    label: String(row[0] ?? ''),
    value: Number(row[valueAt] ?? 0),
  }))
  const max = Math.max(1, ...rows.map((row) => row.value))
  const width = 560
  const height = 180
  const slot = width / Math.max(1, rows.length)
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height + 24}`,
    role: 'img',
    'aria-label': `${contents.column_names[valueAt] ?? 'value'} by ${contents.column_names[0] ?? ''}`,
    class: 'chart',
  })
  rows.forEach((row, index) => {
    const barHeight = Math.round((row.value / max) * height)
    const bar = svg('rect', {
      x: Math.round(index * slot + slot * 0.15),
      y: height - barHeight,
      width: Math.max(1, Math.round(slot * 0.7)),
      height: barHeight,
    })
    bar.append(svg('title', {}, `${row.label}: ${format(row.value)}`))
    chart.append(bar)
    chart.append(
      svg(
        'text',
        { x: Math.round(index * slot + slot / 2), y: height + 16 },
        row.label.split(' ')[0] ?? '',
      ),
    )
  })
  return chart
}

function card(title: string, body: Node): HTMLElement {
  const section = element('section', undefined, 'sim-card')
  section.append(element('h2', title), body)
  return section
}

function header(info: SessionInfo, title: string): HTMLElement {
  const head = element('div', undefined, 'sim-head')
  head.append(element('h1', title))
  const who = element('p', undefined, 'sim-who')
  who.dataset.testid = 'sim-user'
  who.append(
    `Signed in to the simulator as `,
    element('strong', info.userName),
    ` · org ${info.currentOrgId} · groups: ${info.userGroups.join(', ') || 'none'}`,
  )
  const life = element('p', undefined, 'sim-token')
  life.id = 'sim-token'
  const reload = element('button', 'Reload data', 'sim-reload')
  reload.type = 'button'
  reload.id = 'sim-reload'
  reload.addEventListener('click', () => void run(false))
  head.append(who, life, reload)
  return head
}

function showTokenLife(): void {
  const node = document.getElementById('sim-token')
  if (!node) return
  const seconds = Math.max(0, Math.round((tokenExpiresAt - Date.now()) / 1000))
  const how = cookieless ? 'cookieless token' : 'cookie session'
  node.textContent = `${how}: ${seconds} s left · renewed ${renewals}×`
}

async function liveboard(info: SessionInfo, view: Extract<View, { kind: 'liveboard' }>) {
  const answer = await callJson<{ metadata_name: string; contents: Contents[] }>(
    '/api/rest/2.0/metadata/liveboard/data',
    {
      metadata_identifier: view.liveboardId,
      ...(view.vizId ? { visualization_identifiers: [view.vizId] } : {}),
    },
  )
  const grid = element('div', undefined, 'sim-grid')
  answer.contents.forEach((contents, index) => {
    const name = contents.visualization_name ?? `Visualization ${index + 1}`
    grid.append(card(name, index % 2 === 0 ? table(contents) : barChart(contents)))
  })
  content.replaceChildren(header(info, answer.metadata_name), grid)
  post('PinboardRendered', { liveboardId: view.liveboardId })
}

async function search(info: SessionInfo, view: Extract<View, { kind: 'search' }>) {
  const query = view.query ?? DEFAULT_QUERY
  const answer = await callJson<{ contents: Contents[] }>('/api/rest/2.0/searchdata', {
    logical_table_identifier: view.dataSource ?? RETAIL_SALES,
    query_string: query,
  })
  const contents = answer.contents[0] ?? { column_names: [], data_rows: [] }
  const grid = element('div', undefined, 'sim-grid')
  grid.append(card(query, table(contents)), card('Chart', barChart(contents)))
  content.replaceChildren(header(info, 'Search'), grid)
}

/** Checks the credential with session/info, then draws the view. */
async function load(first: boolean): Promise<void> {
  const info = await callJson<SessionInfo>('/callosum/v1/session/info')
  tokenExpiresAt = info.expirationTime
  if (first) post('authInit', { userGUID: info.userGUID })
  if (first) post('EmbedListenerReady')
  const view = viewOf(location.hash)
  if (view.kind === 'liveboard') await liveboard(info, view)
  else if (view.kind === 'search') await search(info, view)
  else
    showNote(`This simulator draws liveboards (#/embed/viz/<id>) and search; not ${location.hash}`)
  showTokenLife()
  scheduleRefresh()
  loads += 1
  document.body.dataset.loads = String(loads)
}

/** Loads the view; a refusal that a new token did not cure ends the embed's sign-in. */
async function run(first: boolean): Promise<void> {
  try {
    await load(first)
  } catch (error) {
    window.clearTimeout(refreshTimer)
    if (error instanceof NotAuthenticated) {
      post('ThoughtspotAuthFailure', { type: 'UNAUTHENTICATED_FAILURE' })
      showNote('Not signed in: the simulator refused the token.')
    } else {
      showNote(`Could not load: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
}

async function start(): Promise<void> {
  if (window.parent === window || params.get('embedApp') !== 'true') {
    showNote('This is the embed app of the ThoughtSpot simulator; the Visual Embed SDK loads it.')
    return
  }
  const init = await ask('appInit')
  adoptToken(tokenIn(init))
  await run(true)
}

window.setInterval(showTokenLife, 1000)
void start()
