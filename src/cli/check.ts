#!/usr/bin/env node
/**
 * Entry of the check command: `npm run check`, `node dist/src/cli/check.js` (the Docker image)
 * or the `thoughtspot-bff-check` bin. See `--help` (in check-run.ts) for what it checks and its
 * exit codes.
 */
import { runCheck } from './check-run.js'

const result = await runCheck(process.argv.slice(2), process.env)
process.stdout.write(result.out)
process.stderr.write(result.err)
process.exitCode = result.code
