/**
 * The check command as it runs in the Docker image: compiled by tsc with the build's settings
 * (tsconfig.build.json) and run with plain node, no tsx — once, against a real simulator, with
 * `--user` and `--json`. The build goes to a private directory so that a dist/ in use by another
 * process is never overwritten; package.json's bin names the same file under dist/.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, it } from 'node:test'
import type { Simulator } from '../../src/simulator/server.js'
import { ROOT, scrubbedEnv } from '../helpers/child-process.js'
import { TEST_AUDIENCE, TEST_HS256_SECRET, TEST_ISSUER } from '../helpers/jwt.js'
import { startTestSimulator, TEST_SESSION_SECRET, TEST_TS_SECRET } from '../helpers/start.js'

const run = promisify(execFile)
const ENTRY = 'src/cli/check.ts'
let out: string
let simulator: Simulator

before(async () => {
  // Inside node_modules, so the build finds the dependencies as dist/ does.
  mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true })
  out = mkdtempSync(join(ROOT, 'node_modules/.cache/tsbff-check-build-'))
  const tsconfig = join(out, 'tsconfig.json')
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { outDir: join(out, 'dist'), rootDir: ROOT, sourceMap: false },
      include: [],
      files: [join(ROOT, ENTRY)],
    }),
  )
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
    cwd: ROOT,
  })
  // node_modules ends the search for package.json's "type": say it here, as the repo's does.
  writeFileSync(join(out, 'dist/package.json'), JSON.stringify({ type: 'module' }))
  simulator = await startTestSimulator()
})
after(async () => {
  await simulator?.close()
  if (out) rmSync(out, { recursive: true, force: true })
})

it('runs compiled with plain node: checks, mints for --user, revokes, prints JSON, exits 0', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  assert.equal(pkg.bin['thoughtspot-bff-check'], 'dist/src/cli/check.js')
  assert.equal(pkg.scripts.check, `tsx ${ENTRY}`)
  const mapping = join(out, 'mapping.yaml')
  writeFileSync(mapping, 'default: { groups: [embed_viewers] }\n')
  const { stdout, stderr } = await run(
    process.execPath,
    [join(out, 'dist/src/cli/check.js'), '--json', '--user', 'dist-user@acme.com'],
    {
      cwd: ROOT,
      env: scrubbedEnv({
        BFF_CONFIG: 'config/default.yaml',
        BFF_MAPPING: mapping,
        TS_HOST: simulator.url,
        TS_SECRET_KEY: TEST_TS_SECRET,
        SESSION_SECRET: TEST_SESSION_SECRET,
        IDENTITY_HS256_SECRET: TEST_HS256_SECRET,
        IDENTITY_ISSUER: TEST_ISSUER,
        IDENTITY_AUDIENCE: TEST_AUDIENCE,
      }),
    },
  )
  assert.equal(stderr, '')
  const report = JSON.parse(stdout) as {
    exitCode: number
    checks: Array<{ name: string; ok: boolean }>
  }
  assert.equal(report.exitCode, 0, stdout)
  assert.deepEqual(
    report.checks.map((c) => `${c.name}:${c.ok}`),
    ['config:true', 'identity:true', 'thoughtspot:true', 'mint:true'],
  )
  const [mint] = simulator.state.callsTo('/api/rest/2.0/auth/token/full')
  assert.equal(mint?.status, 200)
  assert.equal(simulator.state.callsTo('/api/rest/2.0/auth/token/revoke')[0]?.status, 204)
  const token = [...simulator.state.tokens.values()][0]!
  assert.ok(!stdout.includes(token.token))
  assert.ok(!stdout.includes(TEST_TS_SECRET))
})
