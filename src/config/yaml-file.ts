/**
 * Reads a YAML file so that later problems can name the line they come from: both the config
 * file and the mapping file report `file:line: key: message`.
 */
import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import type { ZodError } from 'zod'

/** A parsed YAML file and a way to find the line of any key in it. */
export interface YamlFile {
  path: string
  data: unknown
  /** 1-based line of the node at `keys`, or of its nearest existing parent; undefined if unknown. */
  lineOf: (keys: readonly PropertyKey[]) => number | undefined
}

/** A parsed file, or its problems (`file:line: …`). */
export type YamlResult = { file: YamlFile } | { problems: string[] }

/** Reads and parses `path` (or `source` as its text), keeping line numbers; never throws. */
export function readYamlFile(path: string, source?: string): YamlResult {
  let textContent: string
  try {
    textContent = source ?? readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    return { problems: [`${path}: cannot read the file (${code})`] }
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(textContent, { lineCounter, uniqueKeys: true })
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => {
        const line = error.linePos?.[0].line
        return `${path}${line ? `:${line}` : ''}: invalid YAML: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`
      }),
    }
  }
  const lineOf = (keys: readonly PropertyKey[]): number | undefined => {
    for (let depth = keys.length; depth >= 0; depth--) {
      const node: unknown = doc.getIn(keys.slice(0, depth), true)
      const range = nodeRange(node) ?? (depth === 0 ? nodeRange(doc.contents) : undefined)
      if (range !== undefined) return lineCounter.linePos(range).line
    }
    return undefined
  }
  return { file: { path, data: doc.toJS() as unknown, lineOf } }
}

function nodeRange(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range
    if (range) return range[0]
  }
  return undefined
}

/** Edit distance, for "did you mean" hints on near-miss keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0
      row[j] = Math.min(
        current + 1,
        (row[j - 1] ?? 0) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
      previous = current
    }
  }
  return row[b.length] ?? 0
}

/** The candidate closest to `key` (case-insensitive edit distance), if it is close enough. */
export function nearestName(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined
}

/** ` (did you mean "x"?)` for a near-miss key, or nothing. */
export function didYouMean(key: string, candidates: readonly string[]): string {
  const best = nearestName(key, candidates)
  return best !== undefined ? ` (did you mean "${best}"?)` : ''
}

/**
 * Turns a zod error into one line per problem: `where: dotted.key: message`. `whereOf` names the
 * file and line, or the environment variable, that supplied the key; `knownKeys` feeds the hints.
 */
export function describeIssues(
  error: ZodError,
  whereOf: (keys: readonly PropertyKey[]) => string,
  knownKeys: (keys: readonly PropertyKey[]) => readonly string[],
): string[] {
  const problems: string[] = []
  for (const issue of error.issues) {
    const keys = issue.path
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const full = [...keys, key]
        problems.push(
          `${whereOf(full)}: ${full.join('.')}: unknown key${didYouMean(key, knownKeys(keys))}`,
        )
      }
      continue
    }
    const name = keys.length > 0 ? keys.join('.') : '(top level)'
    problems.push(`${whereOf(keys)}: ${name}: ${issue.message}`)
  }
  return problems
}
