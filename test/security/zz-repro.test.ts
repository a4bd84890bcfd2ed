import { it } from 'node:test'
import { startStack } from '../helpers/start.js'
import { rawRequest } from '../helpers/raw-request.js'
import { GARBAGE_KINDS } from '../../src/simulator/server.js'

it('repro', async () => {
  const stack = await startStack({
    env: { TS_AUTH_API: 'v1' },
    config: { proxy: { allow: [{ method: '*', path: '/api/rest/2.0/metadata/**' }] } },
  })
  for (const kind of GARBAGE_KINDS) {
    const jwt = await stack.jwt({ sub: `bob-${kind}@acme.com`, roles: ['analyst'] })
    stack.simulator.state.setFault({ mode: 'garbage', garbage: kind, paths: /auth\/token/ })
    const r = await rawRequest(stack.url, 'GET', '/ts/api/rest/2.0/metadata/liveboard', {
      authorization: `Bearer ${jwt}`,
      'x-forwarded-proto': 'https',
    })
    console.log('KIND', kind, r.status, r.body.toString().slice(0, 160))
    stack.simulator.state.clearFault()
  }
  for (const line of stack.logs)
    if (line.includes('"level":50') || line.includes('INTERNAL'))
      console.log('LOG', line.slice(0, 600))
  await stack.close({ leakCheck: false })
})
