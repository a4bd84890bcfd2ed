/**
 * The audit trail's flood guard: per subject (user, else IP), code and route family, a few lines
 * a window (one for RATE_LIMITED and STORE_UNAVAILABLE), the rest counted into one summary; and
 * a bounded number of subjects, so a flood from many addresses stays bounded too.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AUDIT_BURST,
  AUDIT_WINDOW_MS,
  MAX_SUBJECTS,
  createRefusalThrottle,
  type RefusalSummary,
} from '../../../src/observability/refusal-throttle.js'
import { testClock } from '../../helpers/clock.js'

function throttle() {
  const clock = testClock()
  const summaries: RefusalSummary[] = []
  const made = createRefusalThrottle({ now: clock.now, summarise: (s) => summaries.push(s) })
  return { made, clock, summaries }
}

const route = '/ts/api/rest/2.0/*'

describe('the refusal throttle', () => {
  it('writes one RATE_LIMITED line per IP a window and summarises the rest', () => {
    const { made, clock, summaries } = throttle()
    const flood = { code: 'RATE_LIMITED', route, ip: '203.0.113.9' }
    const admitted = Array.from({ length: 600 }, () => made.admit(flood)).filter(Boolean)
    assert.equal(admitted.length, 1)
    assert.equal(made.admit({ ...flood, ip: '203.0.113.10' }), true, 'another IP has its own line')
    clock.advance(AUDIT_WINDOW_MS)
    assert.equal(made.admit(flood), true, 'a new window, a new line')
    assert.deepEqual(summaries, [
      {
        windowSeconds: AUDIT_WINDOW_MS / 1000,
        suppressed: 599,
        top: [{ code: 'RATE_LIMITED', route, ip: '203.0.113.9', count: 599 }],
      },
    ])
  })

  it('allows a burst of other refusals per user, whatever IPs they come from', () => {
    const { made, summaries } = throttle()
    const results = Array.from({ length: AUDIT_BURST + 5 }, (_, i) =>
      made.admit({ code: 'ROUTE_NOT_ALLOWED', route, username: 'ann', ip: `10.0.0.${i}` }),
    )
    assert.equal(results.filter(Boolean).length, AUDIT_BURST)
    made.flush()
    assert.deepEqual(summaries[0]?.top, [
      { code: 'ROUTE_NOT_ALLOWED', route, username: 'ann', count: 5 },
    ])
    made.flush()
    assert.equal(summaries.length, 1, 'nothing left out: no summary')
  })

  it('tracks at most MAX_SUBJECTS subjects a window; refusals of more are only counted', () => {
    const { made, summaries } = throttle()
    let written = 0
    for (let i = 0; i < MAX_SUBJECTS + 50; i++) {
      if (made.admit({ code: 'RATE_LIMITED', route, ip: `ip-${i}` })) written++
    }
    assert.equal(written, MAX_SUBJECTS)
    made.flush()
    assert.equal(summaries[0]?.suppressed, 50)
    assert.ok((summaries[0]?.top.length ?? 0) <= 20)
  })
})
