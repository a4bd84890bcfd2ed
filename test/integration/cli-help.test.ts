/**
 * `--help` works on every CLI and exits 0 (issue 9): mapping, check, bench and the simulator,
 * each run as an operator runs it (node with tsx, from the repo root), in an environment that
 * configures none of them.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { it } from 'node:test'
import { ROOT, scrubbedEnv } from '../helpers/child-process.js'

const run = promisify(execFile)

const CLIS: Array<[string, RegExp]> = [
  ['src/mapping/cli.ts', /^usage:\n {2}npm run mapping -- check/],
  ['src/cli/check.ts', /^usage: npm run check/],
  ['bench/run.ts', /^Usage: npm run bench/],
  ['src/simulator/main.ts', /^usage: SIM_SECRET_KEY=<key> npm run simulator/],
]

for (const [script, usage] of CLIS) {
  it(`${script} --help prints its usage and exits 0`, async () => {
    // execFile rejects on a non-zero exit code, so resolving is the exit-0 assertion.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, '--help'], {
      cwd: ROOT,
      env: scrubbedEnv(),
      timeout: 60_000,
    })
    assert.match(stdout, usage)
  })
}
