#!/usr/bin/env node
// `npm start`'s prestart: builds only when dist/ is missing or older than its sources, so a
// start with a current build costs a few directory listings instead of a TypeScript compile.
// `npm run build` ends with `--stamp`, which records that a whole build finished (tests also
// write into dist/front-end, so the presence of dist/ alone proves nothing).
//
// Without the build tools (installed with NODE_ENV=production or `npm ci --omit=dev`, which
// skip devDependencies) it cannot build: it says so and how to, instead of `tsc: not found`.
// Plain JavaScript on purpose: it must run where TypeScript is not installed.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'

const ROOT = new URL('..', import.meta.url).pathname
const STAMP = join(ROOT, 'dist/.build-stamp')
const ENTRY = join(ROOT, 'dist/src/main.js')
/** What the build reads: a change to any of them makes dist/ stale. */
const INPUTS = [
  'src',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/build-front-end.ts',
  'package-lock.json',
]
/** The packages `npm run build` needs (devDependencies). */
const BUILD_TOOLS = ['typescript', 'tsx', 'esbuild']

const say = (line) => process.stderr.write(`thoughtspot-bff: ${line}\n`)

/** The newest file under `path` (a file or a directory), as [mtimeMs, path]. */
function newest(path) {
  let stat
  try {
    stat = statSync(path)
  } catch {
    return [0, path]
  }
  if (!stat.isDirectory()) return [stat.mtimeMs, path]
  let best = [stat.mtimeMs, path]
  for (const name of readdirSync(path)) {
    const found = newest(join(path, name))
    if (found[0] > best[0]) best = found
  }
  return best
}

/** Why dist/ must be built, or null when it is current. */
function staleness() {
  if (!existsSync(ENTRY) || !existsSync(STAMP)) return 'dist/ has no complete build'
  const built = statSync(STAMP).mtimeMs
  for (const input of INPUTS) {
    const [mtime, path] = newest(join(ROOT, input))
    if (mtime > built) return `${relative(ROOT, path)} changed since the last build`
  }
  return null
}

function missingTools() {
  const require = createRequire(join(ROOT, 'package.json'))
  return BUILD_TOOLS.filter((name) => {
    try {
      require.resolve(`${name}/package.json`)
      return false
    } catch {
      return true
    }
  })
}

if (process.argv.includes('--stamp')) {
  writeFileSync(STAMP, `${new Date().toISOString()}\n`)
  process.exit(0)
}

const why = staleness()
if (why === null) process.exit(0)
const missing = missingTools()
if (missing.length > 0) {
  if (existsSync(ENTRY)) {
    say(
      `${why}, but the build tools are not installed (${missing.join(', ')}): starting the existing build in dist/`,
    )
    process.exit(0)
  }
  say(
    `cannot start: dist/ holds no build, and building needs the devDependencies (${missing.join(', ')} missing).`,
  )
  say(
    'they are skipped by NODE_ENV=production and `npm ci --omit=dev`. Build once where they are installed:',
  )
  say('  npm ci && npm run build && npm prune --omit=dev    then: NODE_ENV=production npm start')
  process.exit(1)
}
say(`building (${why})`)
const npm = process.env.npm_execpath
const build = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' })
process.exit(build.status ?? 1)
