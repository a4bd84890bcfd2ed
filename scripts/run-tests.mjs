#!/usr/bin/env node
// Runs the whole suite with node's test runner (TypeScript through tsx). Arguments narrow it:
// `npm test -- test/unit` or `npm test -- test/integration/session.test.ts`.
// Before running, it makes sure the system parts the tests use for real (chromium, redis-server)
// are installed, so `npm test` works on a fresh machine.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname

function collect(path) {
  const stat = statSync(path)
  if (stat.isFile()) return path.endsWith('.test.ts') ? [path] : []
  return readdirSync(path)
    .sort()
    .flatMap((name) =>
      name === 'node_modules' || name === 'fixtures' ? [] : collect(join(path, name)),
    )
}

const targets = process.argv.slice(2)
const files = (targets.length > 0 ? targets : ['test']).flatMap((target) =>
  collect(join(root, target)),
)
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}

const deps = spawnSync('bash', [join(root, 'scripts/ensure-test-deps.sh')], { stdio: 'inherit' })
if (deps.status !== 0) process.exit(deps.status ?? 1)

const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
    ...files.map((file) => relative(root, file)),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
)
process.exit(result.status ?? 1)
