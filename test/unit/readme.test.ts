/**
 * The README is part of the contract: its error table must list exactly the codes of
 * src/errors.ts with their statuses, and its environment table every variable the loader reads.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { ENV_OVERRIDES } from '../../src/config/env.js'
import { ERROR_CODES, STATUSES_BY_CODE } from '../../src/errors.js'

const readme = readFileSync('README.md', 'utf8')

function tableAfter(heading: string): string[][] {
  const start = readme.indexOf(heading)
  assert.ok(start >= 0, `README has "${heading}"`)
  const lines = readme.slice(start).split('\n')
  const rows: string[][] = []
  let inTable = false
  for (const line of lines.slice(1)) {
    if (line.startsWith('|')) {
      inTable = true
      rows.push(
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      )
    } else if (inTable) break
  }
  return rows.slice(2) // header and separator
}

it('documents every error code with its status, and no other', () => {
  const rows = tableAfter('## Errors')
  const documented = new Map(rows.map(([code, status]) => [code?.replaceAll('`', ''), status]))
  assert.deepEqual([...documented.keys()].sort(), [...ERROR_CODES].sort())
  for (const code of ERROR_CODES) {
    for (const status of STATUSES_BY_CODE.get(code) ?? []) {
      assert.ok(documented.get(code)?.includes(String(status)), `${code} → ${status}`)
    }
  }
})

it('documents every environment variable the loader reads', () => {
  const documented = tableAfter('### Environment variables')
    .map(([name]) => name ?? '')
    .join(' ')
  const read = [
    ...Object.keys(ENV_OVERRIDES),
    'BFF_CONFIG',
    'BFF_MAPPING',
    'TS_SECRET_KEY_FILE',
    'SESSION_SECRET_FILE',
    'IDENTITY_HS256_SECRET',
    'IDENTITY_HS256_SECRET_FILE',
    'NODE_ENV',
  ]
  for (const name of read) assert.ok(documented.includes(`\`${name}\``), `${name} is in the README`)
})
