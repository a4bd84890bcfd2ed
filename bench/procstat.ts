/**
 * CPU time and resident memory of a process, read from /proc (Linux). CPU is utime + stime of the
 * whole thread group (libuv pool and V8 helper threads included), in clock ticks.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let ticksPerSecond: number | undefined

/** Clock ticks per second for /proc/<pid>/stat (`getconf CLK_TCK`, 100 on every usual Linux). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    } catch {
      ticksPerSecond = 100
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100
  }
  return ticksPerSecond
}

/** utime + stime of `pid` in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime (15) fields[12].
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1_000_000) / clockTicks()
}

/** VmRSS of `pid` in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
  if (!match) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1]) / 1024
}

/** Whether /proc gives CPU and RSS figures here. */
export function procAvailable(): boolean {
  try {
    cpuMicros(process.pid)
    rssMiB(process.pid)
    return true
  } catch {
    return false
  }
}
