/**
 * Error objects in log lines keep their type and message (issue 9): pino's own serializer turned
 * a plain `{ type, message }` into `"type":"Object",…,"stack":""` and showed nothing of a cause.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  serializeError,
  type SerializedError,
} from '../../../src/observability/error-serializer.js'
import { createLogger } from '../../../src/observability/logger.js'
import { BffError } from '../../../src/errors.js'

/** Logs `fields` through the real logger and returns the parsed line. */
function logged(fields: Record<string, unknown>): { err: SerializedError; error: SerializedError } {
  const lines: string[] = []
  const log = createLogger({
    level: 'info',
    destination: { write: (line) => void lines.push(line) },
  })
  log.error(fields, 'failed')
  assert.equal(lines.length, 1)
  return JSON.parse(lines[0]!) as { err: SerializedError; error: SerializedError }
}

describe('error serialisation in logs', () => {
  it('keeps the type a caller wrote into a plain object (no "Object", no empty stack)', () => {
    const line = logged({ err: { type: 'JOSEError', message: 'Expected 200 OK' } })
    assert.deepEqual(line.err, { type: 'JOSEError', message: 'Expected 200 OK' })
  })

  it('names an Error by its class and follows its cause, with the errno code', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    })
    const line = logged({ err: new TypeError('fetch failed', { cause }) })
    assert.equal(line.err.type, 'TypeError')
    assert.equal(line.err.message, 'fetch failed')
    assert.deepEqual(line.err.cause, {
      type: 'Error',
      message: 'connect ECONNREFUSED 127.0.0.1:1',
      code: 'ECONNREFUSED',
    })
    assert.match(line.err.stack ?? '', /^TypeError: fetch failed/)
  })

  it('uses the class name of a subclass that left `name` alone, and BffError its own', () => {
    class StoreDown extends Error {}
    assert.equal(serializeError(new StoreDown('x')).type, 'StoreDown')
    assert.equal(serializeError(new BffError('INTERNAL', 'boom')).type, 'BffError')
  })

  it('serialises `error` like `err`, and whatever else was thrown', () => {
    assert.equal(logged({ error: new RangeError('r') }).error.type, 'RangeError')
    assert.deepEqual(serializeError('a string'), { type: 'string', message: 'a string' })
    assert.deepEqual(serializeError({ outcome: 'denied' }), {
      type: 'Object',
      message: '(no message)',
    })
  })

  it('lists the errors of an AggregateError and stops at a cause loop', () => {
    const aggregate = new AggregateError([new Error('v4 refused'), new Error('v6 refused')], '')
    assert.deepEqual(
      serializeError(aggregate).errors?.map((each) => each.message),
      ['v4 refused', 'v6 refused'],
    )
    const loop = new Error('a')
    loop.cause = loop
    let depth = 0
    for (let node = serializeError(loop); node.cause; node = node.cause) depth++
    assert.ok(depth <= 4)
  })

  it('never carries an error’s other fields (a credential there stays out of the line)', () => {
    const err = Object.assign(new Error('refused'), { secret_key: 'k-123', token: 't-456' })
    const text = JSON.stringify(logged({ err }))
    assert.doesNotMatch(text, /k-123|t-456/)
  })
})
