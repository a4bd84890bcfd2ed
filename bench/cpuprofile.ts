/**
 * `--profile`: the BFF under `node --cpu-prof` for the proxied-bearer row, then the profile read
 * back here: self time per function (and per package/area) over the busy samples, so the hot
 * path's cost can be seen without opening DevTools.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROOT } from './stack.js'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

/** The parts of a .cpuprofile (Chrome DevTools format) this reads. */
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Sampled time of one function or area, in µs. */
export interface SelfTime {
  name: string
  where: string
  micros: number
}

/** A .cpuprofile reduced to the tables the report prints. */
export interface ProfileSummary {
  /** Sampled time with the process busy (idle and program samples excluded), µs. */
  busyMicros: number
  idleMicros: number
  functions: SelfTime[]
  areas: SelfTime[]
  /** Self time charged to the nearest caller in a package or src dir (node internals folded in). */
  attributed: SelfTime[]
}

/** `node_modules/<pkg>`, `src/<dir>`, `node:<module>`, or the V8 pseudo-frame's name. */
function areaOf(frame: CallFrame): string {
  const { url } = frame
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)'
  if (url.startsWith('node:')) return 'node internals'
  const path = url.startsWith('file:') ? fileURLToPath(url) : url
  const modules = path.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/')
    return (rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]) ?? path
  }
  const rel = relative(ROOT, path)
  const parts = rel.split('/')
  return parts.length > 3 ? parts.slice(0, 3).join('/') : rel
}

function whereOf(frame: CallFrame): string {
  const { url } = frame
  if (url === '') return ''
  const path = url.startsWith('file:') ? fileURLToPath(url) : url
  const modules = path.lastIndexOf('/node_modules/')
  const shown =
    modules >= 0 ? path.slice(modules + 1) : path.startsWith('/') ? relative(ROOT, path) : path
  return `${shown}:${frame.lineNumber + 1}`
}

const IDLE = new Set(['(idle)', '(program)'])

/** Areas that do work on someone else's behalf: their time is charged to the caller. */
const isInternal = (area: string): boolean => area === 'node internals' || area === '(native)'

function attributor(nodes: readonly ProfileNode[]): (id: number) => string {
  const byId = new Map(nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const memo = new Map<number, string>()
  const attribute = (id: number): string => {
    const known = memo.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)
    const own = node ? areaOf(node.callFrame) : '(unknown)'
    const up = parent.get(id)
    const area = isInternal(own) && up !== undefined ? attribute(up) : own
    // A chain that never leaves node internals (e.g. the event loop's own work) keeps its name.
    const result = area === '(root)' ? own : area
    memo.set(id, result)
    return result
  }
  return attribute
}

function add(map: Map<string, SelfTime>, name: string, micros: number): void {
  const entry = map.get(name) ?? { name, where: '', micros: 0 }
  entry.micros += micros
  map.set(name, entry)
}

/** Self time per function and per area, largest first. */
export function summariseProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const functions = new Map<string, SelfTime>()
  const areas = new Map<string, SelfTime>()
  const attributed = new Map<string, SelfTime>()
  const attribute = attributor(profile.nodes)
  let busy = 0
  let idle = 0
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; the sample accounts for the gap after it.
    const micros = profile.timeDeltas[i + 1] ?? 0
    const frame = byId.get(id)?.callFrame
    if (!frame) return
    if (IDLE.has(frame.functionName)) {
      idle += micros
      return
    }
    busy += micros
    const where = whereOf(frame)
    const name = frame.functionName || '(anonymous)'
    const key = `${name} ${where}`
    const fn = functions.get(key) ?? { name, where, micros: 0 }
    fn.micros += micros
    functions.set(key, fn)
    add(areas, areaOf(frame), micros)
    add(attributed, attribute(id), micros)
  })
  const sorted = (map: Map<string, SelfTime>): SelfTime[] =>
    [...map.values()].sort((x, y) => y.micros - x.micros)
  return {
    busyMicros: busy,
    idleMicros: idle,
    functions: sorted(functions),
    areas: sorted(areas),
    attributed: sorted(attributed),
  }
}

/** Reads the one .cpuprofile a run left in `dir`. */
export function readProfile(dir: string): CpuProfile {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no .cpuprofile was written in ${dir}`)
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
}

/** Markdown: the top `top` functions by self time, then areas by self and by charged time. */
export function profileMarkdown(summary: ProfileSummary, requests: number, top = 25): string {
  const pct = (micros: number): string => `${((micros / summary.busyMicros) * 100).toFixed(1)} %`
  const perReq = (micros: number): string => (requests > 0 ? (micros / requests).toFixed(1) : '')
  const ms = (micros: number): string => (micros / 1000).toFixed(1)
  const areaRows = (areas: readonly SelfTime[]): string[] =>
    areas
      .slice(0, 15)
      .map((a) => `| ${a.name} | ${ms(a.micros)} | ${pct(a.micros)} | ${perReq(a.micros)} |`)
  return [
    `Busy samples: ${ms(summary.busyMicros)} ms over ${requests} requests ` +
      `(${perReq(summary.busyMicros)} µs/request; idle ${ms(summary.idleMicros)} ms not counted).`,
    '',
    '| # | self ms | self % | µs/req | function | where |',
    '| ---: | ---: | ---: | ---: | --- | --- |',
    ...summary.functions
      .slice(0, top)
      .map(
        (f, i) =>
          `| ${i + 1} | ${ms(f.micros)} | ${pct(f.micros)} | ${perReq(f.micros)} | \`${f.name}\` | ${f.where} |`,
      ),
    '',
    'Self time by area (package or src dir):',
    '',
    '| area | self ms | self % | µs/req |',
    '| --- | ---: | ---: | ---: |',
    ...areaRows(summary.areas),
    '',
    'The same, with node internals and native frames charged to the nearest caller in a package',
    'or src dir (what each part of the stack costs, including the Node work it asks for):',
    '',
    '| area | charged ms | charged % | µs/req |',
    '| --- | ---: | ---: | ---: |',
    ...areaRows(summary.attributed),
  ].join('\n')
}
