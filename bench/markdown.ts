/** Small Markdown and number helpers shared by the report and the targets. */
import type { summarise } from './measure.js'

/** The medians of one row (see measure.ts). */
export type Summary = ReturnType<typeof summarise>

/** A number with `digits` decimals, or a dash when it is not a number. */
export const fixed = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toFixed(digits) : '–'

/** A Markdown table; a header starting with `<` is left-aligned, others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const align = header.map((h) => (h.startsWith('<') ? '---' : '---:'))
  const clean = header.map((h) => h.replace(/^</, ''))
  return [clean, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

/** a ÷ b, NaN when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b !== undefined && b > 0 ? a / b : NaN
}
