// `npm audit --omit=dev --audit-level=high` for CI: fails on a high or critical advisory in a
// runtime dependency. A registry that does not offer the audit endpoint (some mirrors and
// proxies answer 405) is reported loudly as "not audited" rather than as a pass or a failure:
// the step cannot tell whether anything is vulnerable, and it must not stop unrelated work.
import { spawnSync } from 'node:child_process'

const run = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], {
  encoding: 'utf8',
})
let report
try {
  report = JSON.parse(run.stdout)
  if (typeof report !== 'object' || report === null) throw new Error('not a report')
} catch {
  console.error(`npm audit printed no report (exit ${run.status}):\n${run.stderr}`)
  process.exit(1)
}

const counts = report.metadata?.vulnerabilities
if (counts) {
  const line = Object.entries(counts)
    .map(([level, count]) => `${level} ${count}`)
    .join(', ')
  console.log(`npm audit (runtime dependencies): ${line}`)
  if ((counts.high ?? 0) + (counts.critical ?? 0) > 0) {
    spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high'], { stdio: 'inherit' })
    process.exit(1)
  }
  process.exit(0)
}

const status = report.statusCode ?? report.error?.code ?? 'unknown'
console.warn(
  `npm audit: NOT AUDITED — the registry's audit endpoint answered ${status} ` +
    `(${report.message ?? report.error?.summary ?? 'no message'}). Run it where the public ` +
    'registry is reachable before a release.',
)
