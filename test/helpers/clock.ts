/** A clock tests move by hand, shared by the BFF and the simulator so expiry is exact. */
export interface TestClock {
  now: () => number
  advance(ms: number): void
}

export function testClock(start = Date.now()): TestClock {
  let offset = 0
  return {
    now: () => start + offset,
    advance(ms) {
      offset += ms
    },
  }
}
