/**
 * The simulator over real HTTP: The simulator CLI (src/simulator/main.ts) as a child process.
 * Each test starts its own simulator and closes it (t.after).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { SECRET, V2 } from './helpers.js'

describe('CLI (src/simulator/main.ts)', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url))

  function run(env: Record<string, string>) {
    return spawn(process.execPath, ['--import', 'tsx', 'src/simulator/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  }

  it('reads the key file (trimmed), prints its URL and stops on SIGTERM', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const keyFile = join(dir, 'key')
    writeFileSync(keyFile, `${SECRET}\n`)
    const child = run({ SIM_SECRET_KEY_FILE: keyFile, SIM_PORT: '0', SIM_GROUPS: 'a, b' })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    t.after(() => child.kill('SIGKILL'))
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out)
        if (match?.[1]) resolve(match[1])
      })
      child.once('exit', () => reject(new Error(`exited early: ${out}`)))
    })
    const res = await fetch(`${url}${V2}/auth/token/full`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x', secret_key: SECRET, auto_create: true }),
    })
    assert.equal(res.status, 200)
    await res.text()
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
  })

  it('refuses to start without a secret key, with one line on stderr', async () => {
    const child = run({ SIM_PORT: '0' })
    let err = ''
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    assert.equal(code, 1)
    assert.match(err, /^ts-simulator: SIM_SECRET_KEY or SIM_SECRET_KEY_FILE is required\n$/)
  })
})

describe('CLI settings', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url))

  it('refuses SIM_EMBED_ORIGINS that are not origins, naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/simulator/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        SIM_SECRET_KEY: SECRET,
        SIM_PORT: '0',
        SIM_EMBED_ORIGINS: 'http://127.0.0.1:3000, localhost:5173',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    assert.equal(code, 1)
    assert.match(err, /^ts-simulator: SIM_EMBED_ORIGINS must be a comma list of origins/)
  })
})
