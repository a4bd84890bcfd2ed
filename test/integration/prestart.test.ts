/**
 * `npm start`'s prestart (scripts/ensure-build.mjs, issue 9 §4) in a scratch copy of the repo
 * layout: a current build starts without building; a changed source builds first; without the
 * build tools (NODE_ENV=production installs) it starts an existing build with a warning, and
 * with no build at all it exits 1 saying how to build — never `tsc: not found`.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ROOT } from '../helpers/child-process.js'

const scratches: string[] = []
after(() => {
  for (const dir of scratches) rmSync(dir, { recursive: true, force: true })
})

/** A repo-like directory: sources, the script, optionally a build and the build tools. */
function scratch(options: { built: boolean; tools: boolean }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsbff-prestart-'))
  scratches.push(dir)
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  mkdirSync(join(dir, 'scripts'))
  copyFileSync(join(ROOT, 'scripts/ensure-build.mjs'), join(dir, 'scripts/ensure-build.mjs'))
  // `npm run build` here only leaves a mark and stamps, like the real one does at its end.
  write(
    'package.json',
    JSON.stringify({
      name: 'scratch',
      private: true,
      type: 'module',
      scripts: {
        build:
          "node -e \"require('fs').mkdirSync('dist/src',{recursive:true});require('fs').writeFileSync('dist/src/main.js','');require('fs').writeFileSync('built','')\" && node scripts/ensure-build.mjs --stamp",
      },
    }),
  )
  write('src/main.ts', 'export {}\n')
  write('tsconfig.json', '{}\n')
  const past = new Date(Date.now() - 3_600_000)
  for (const path of ['src/main.ts', 'src', 'tsconfig.json', 'package.json']) {
    utimesSync(join(dir, path), past, past)
  }
  if (options.tools) {
    for (const name of ['typescript', 'tsx', 'esbuild']) {
      write(`node_modules/${name}/package.json`, JSON.stringify({ name, version: '0.0.0' }))
    }
  }
  if (options.built) {
    write('dist/src/main.js', '')
    write('dist/.build-stamp', 'now\n')
  }
  return dir
}

/** The build happened two hours ago; src/main.ts was edited since. */
function editedAfterBuild(dir: string): void {
  const longAgo = new Date(Date.now() - 7_200_000)
  utimesSync(join(dir, 'dist/.build-stamp'), longAgo, longAgo)
  const now = new Date()
  utimesSync(join(dir, 'src/main.ts'), now, now)
}

function prestart(dir: string) {
  const result = spawnSync(process.execPath, ['scripts/ensure-build.mjs'], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  })
  return { code: result.status, stderr: result.stderr, built: existsSync(join(dir, 'built')) }
}

describe('the prestart check', () => {
  it('does nothing when the build is current', () => {
    const result = prestart(scratch({ built: true, tools: true }))
    assert.deepEqual(result, { code: 0, stderr: '', built: false })
  })

  it('builds first when a source changed since the last build, naming it', () => {
    const dir = scratch({ built: true, tools: true })
    editedAfterBuild(dir)
    const result = prestart(dir)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /building \(src\/main\.ts changed since the last build\)/)
    assert.ok(result.built)
    assert.deepEqual(prestart(dir), { code: 0, stderr: '', built: true }, 'then it is current')
  })

  it('builds when there is no complete build (no stamp)', () => {
    const dir = scratch({ built: false, tools: true })
    const result = prestart(dir)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /building \(dist\/ has no complete build\)/)
    assert.ok(existsSync(join(dir, 'dist/.build-stamp')))
  })

  it('without the build tools, starts an existing build and says it could not rebuild', () => {
    const dir = scratch({ built: true, tools: false })
    editedAfterBuild(dir)
    const result = prestart(dir)
    assert.equal(result.code, 0)
    assert.match(result.stderr, /build tools are not installed \(typescript, tsx, esbuild\)/)
    assert.match(result.stderr, /starting the existing build/)
    assert.equal(result.built, false)
  })

  it('without the build tools and without a build, exits 1 saying how to build', () => {
    const result = prestart(scratch({ built: false, tools: false }))
    assert.equal(result.code, 1)
    assert.match(result.stderr, /cannot start: dist\/ holds no build/)
    assert.match(result.stderr, /NODE_ENV=production/)
    assert.match(result.stderr, /npm ci && npm run build && npm prune --omit=dev/)
    assert.doesNotMatch(result.stderr, /not found/)
  })
})
