/**
 * The mapping file is re-read on SIGHUP and when it changes; an invalid new file is refused and
 * the old mapping stays in force (logged at error); a changed mapping makes cached tokens unusable.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { after, before, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { MAPPING_POLL_MS } from '../../src/mapping/holder.js'
import { startStack, type Stack } from '../helpers/start.js'

let stack: Stack
before(async () => {
  stack = await startStack({ mapping: 'default: { groups: [embed_viewers] }\n' })
})
after(() => stack.close())

async function groupsOf(sub: string): Promise<string[]> {
  const response = await stack.request
    .get('/ts/session')
    .set('Authorization', `Bearer ${await stack.jwt({ sub, roles: ['analyst'] })}`)
  assert.equal(response.status, 200, response.text)
  return response.body.groups as string[]
}

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await sleep(50)
  }
  assert.fail('condition not reached')
}

it('applies a new mapping on SIGHUP and re-mints a user whose mapping changed', async () => {
  const headers = {
    Authorization: `Bearer ${await stack.jwt({ sub: 'reload-user', roles: ['analyst'] })}`,
  }
  const before = await stack.request.get('/ts/auth/token').set(headers)
  assert.deepEqual(await groupsOf('reload-user'), ['embed_viewers'])

  writeFileSync(
    stack.mappingFile,
    'default: { groups: [embed_viewers] }\nrules:\n  - when: { claim: roles, includes: analyst }\n    groups: [analysts]\n',
  )
  stack.services.mapping.watch()
  try {
    process.kill(process.pid, 'SIGHUP')
    await eventually(async () => (await groupsOf('reload-user')).includes('analysts'))
  } finally {
    stack.services.mapping.stop()
  }
  const after = await stack.request.get('/ts/auth/token').set(headers)
  assert.notEqual(
    after.text,
    before.text,
    'the old cached token is not used after the mapping changed',
  )
  const mints = stack.simulator.state.callsTo('/auth/token/full')
  assert.deepEqual((mints.at(-1)?.json as { group_identifiers: string[] }).group_identifiers, [
    'analysts',
    'embed_viewers',
  ])
})

it('one and the same bearer JWT is mapped anew after a reload (nothing cached hides it)', async () => {
  writeFileSync(stack.mappingFile, 'default: { groups: [embed_viewers] }\n')
  assert.equal(stack.services.mapping.reload(), true)
  const headers = {
    Authorization: `Bearer ${await stack.jwt({ sub: 'same-jwt', roles: ['analyst'] })}`,
  }
  const before = await stack.request.get('/ts/session').set(headers)
  assert.deepEqual(before.body.groups, ['embed_viewers'])
  writeFileSync(
    stack.mappingFile,
    'default: { groups: [embed_viewers] }\nrules:\n  - when: { claim: roles, includes: analyst }\n    deny: true\n',
  )
  assert.equal(stack.services.mapping.reload(), true)
  const after = await stack.request.get('/ts/session').set(headers)
  assert.equal(after.status, 403)
  assert.equal(after.body.error.code, 'DENIED')
})

it('notices a changed file without a signal', async () => {
  writeFileSync(stack.mappingFile, 'default: { groups: [embed_viewers] }\n')
  assert.equal(stack.services.mapping.reload(), true)
  // The app's own holder, watching the file as main.ts starts it (it polls every second). The
  // watcher takes its first look at the file asynchronously: a write before that look would be
  // its starting state, not a change. One poll interval is ample for that look.
  stack.services.mapping.watch()
  await sleep(MAPPING_POLL_MS)
  try {
    writeFileSync(stack.mappingFile, 'default: { groups: [embed_viewers, executives] }\n')
    await eventually(async () => (await groupsOf('watched-user')).includes('executives'))
  } finally {
    stack.services.mapping.stop()
  }
})

it('refuses an invalid new file, keeps the old mapping and logs the problem at error', async () => {
  writeFileSync(stack.mappingFile, 'default: { groups: [embed_viewers] }\n')
  assert.equal(stack.services.mapping.reload(), true)
  writeFileSync(
    stack.mappingFile,
    'default: { groups: [embed_viewers] }\nrules:\n  - when: { claim: roles }\n    groups: [oops]\n',
  )
  assert.equal(stack.services.mapping.reload(), false)
  assert.deepEqual(await groupsOf('still-mapped'), ['embed_viewers'])
  const rejected = stack.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.event === 'mapping.rejected')
  assert.equal(rejected?.level, 'error')
  assert.match(JSON.stringify(rejected?.problems), /:3: rules\.0\.when: needs exactly one of/)
})
