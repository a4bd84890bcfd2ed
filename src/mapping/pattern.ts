/**
 * `matches` patterns run on RE2 (the pure-JS port `re2js`): matching time is linear in the claim's
 * length whatever the pattern, so a pattern with nested quantifiers cannot stall the event loop
 * that every `/ts/*` request shares. What RE2 cannot run (backreferences, lookaround) is refused
 * when the mapping loads, with the reason, rather than silently meaning something else.
 */
import { RE2JS } from 're2js'

/** A compiled `matches` pattern: an unanchored test, like `RegExp.prototype.test`. */
export interface ClaimPattern {
  readonly source: string
  test(text: string): boolean
}

/** A compiled pattern, or the one-sentence reason it was refused. */
export type PatternResult = { pattern: ClaimPattern } | { problem: string }

/** Longest pattern accepted; RE2 also bounds the compiled program itself. */
const MAX_PATTERN_LENGTH = 4096

/**
 * Walks the pattern once: rewrites JavaScript's `\uXXXX` and `\u{X}` escapes to RE2's `\x{X}` (so
 * patterns written for `RegExp` keep working), and names the constructs RE2 does not have, which
 * its own parser reports only as "invalid escape" or "invalid named capture".
 */
function translate(source: string): { text: string } | { problem: string } {
  let text = ''
  let inClass = false
  for (let i = 0; i < source.length; i++) {
    const c = source.charAt(i)
    const next = source[i + 1]
    if (c === '\\' && next !== undefined) {
      if (!inClass && /[1-9]/.test(next)) {
        return { problem: `backreferences (\\${next}) are not supported by RE2` }
      }
      if (!inClass && next === 'k' && source[i + 2] === '<') {
        return { problem: 'named backreferences (\\k<name>) are not supported by RE2' }
      }
      const unicode = /^u(?:\{([0-9A-Fa-f]{1,6})\}|([0-9A-Fa-f]{4}))/.exec(source.slice(i + 1))
      if (unicode) {
        text += `\\x{${unicode[1] ?? unicode[2] ?? ''}}`
        i += unicode[0].length
        continue
      }
      text += c + next
      i++
      continue
    }
    if (inClass) {
      if (c === ']') inClass = false
    } else if (c === '[') {
      inClass = true
      text += c
      // A `]` right after `[` or `[^` is a member in RE2, not the end of the class.
      if (source[i + 1] === '^') text += source[++i] ?? ''
      if (source[i + 1] === ']') text += source[++i] ?? ''
      continue
    } else if (c === '(' && next === '?') {
      const lookaround = /^\(\?(<?[=!])/.exec(source.slice(i))
      if (lookaround) {
        const kind = lookaround[1]?.startsWith('<') ? 'lookbehind' : 'lookahead'
        return { problem: `${kind} ((?${lookaround[1] ?? ''}…)) is not supported by RE2` }
      }
    }
    text += c
  }
  return { text }
}

/** Compiles a `matches` pattern, or says in one sentence why it cannot be used. */
export function compilePattern(source: string): PatternResult {
  if (source.length > MAX_PATTERN_LENGTH) {
    return { problem: `longer than ${MAX_PATTERN_LENGTH} characters` }
  }
  const translated = translate(source)
  if ('problem' in translated) return translated
  try {
    const compiled = RE2JS.compile(translated.text)
    return { pattern: { source, test: (text) => compiled.test(text) } }
  } catch (err) {
    // RE2's text is "error parsing regexp: <what>: `<where>`"; keep only what and where.
    const message = err instanceof Error ? err.message : String(err)
    return { problem: message.replace(/^error parsing regexp: /, '') }
  }
}

/** The same pattern, case-insensitive: used only by `explain` to spot near misses. */
export function caseInsensitive(pattern: ClaimPattern): ClaimPattern | undefined {
  const result = compilePattern(`(?i:${pattern.source})`)
  return 'pattern' in result ? result.pattern : undefined
}
