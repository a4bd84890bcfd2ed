/**
 * The embed app: what the Visual Embed SDK loads in its iframe. The SDK points the iframe at the
 * cluster's root (`/?embedApp=true…#/embed/viz/<id>` for liveboards, `/v2/?…#/embed/answer` for
 * search), so those paths serve a small page whose script (src/simulator/page/, bundled into
 * dist/front-end/simulator by `npm run build`) speaks the SDK's postMessage protocol and draws
 * the caller's data. Only the embedding origins may frame it, as with ThoughtSpot's "CSP visual
 * embed hosts".
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Answer, Context, Route } from './http.js'

/** Where the embed app's assets are served from. */
export const ASSET_PREFIX = '/simulator-assets'
const ASSETS = { 'embed-app.js': 'text/javascript', 'embed-app.css': 'text/css' } as const

/** The repository root: the nearest folder above this file that holds package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}

/** The built embed app, next to the demo page's bundle. */
export const EMBED_APP_DIR = join(packageRoot(), 'dist', 'front-end', 'simulator')

function embedAppPage(ctx: Context): Answer {
  const built = existsSync(join(EMBED_APP_DIR, 'embed-app.js'))
  const ancestors = ["'self'", ...ctx.state.embedOrigins].join(' ')
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>ThoughtSpot simulator</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${ASSET_PREFIX}/embed-app.css" />
    <script type="module" src="${ASSET_PREFIX}/embed-app.js"></script>
  </head>
  <body>
    <header class="sim-bar">
      <strong>ThoughtSpot simulator</strong>
      <span>a local stand-in for a ThoughtSpot cluster, not ThoughtSpot itself</span>
    </header>
    <main id="content" aria-live="polite">
      <p class="sim-note">${
        built
          ? 'Waiting for the Visual Embed SDK…'
          : 'The embed app is not built yet: run <code>npm run build</code>.'
      }</p>
    </main>
  </body>
</html>
`
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        `frame-ancestors ${ancestors}`,
      ].join('; '),
    },
    body: Buffer.from(html),
  }
}

function asset(name: keyof typeof ASSETS): Route['handle'] {
  return function serveAsset(): Answer {
    const file = join(EMBED_APP_DIR, name)
    if (!existsSync(file)) {
      return {
        status: 404,
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from('not built'),
      }
    }
    return {
      status: 200,
      headers: {
        'content-type': `${ASSETS[name]}; charset=utf-8`,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      },
      body: readFileSync(file),
    }
  }
}

/** The embed app's routes, for the server's route table. */
export const embedPageRoutes: Route[] = [
  { method: 'GET', path: '/', handle: embedAppPage },
  { method: 'GET', path: '/v2/', handle: embedAppPage },
  { method: 'GET', path: `${ASSET_PREFIX}/embed-app.js`, handle: asset('embed-app.js') },
  { method: 'GET', path: `${ASSET_PREFIX}/embed-app.css`, handle: asset('embed-app.css') },
]
