/**
 * Reaching ThoughtSpot with one cheap call that needs no credentials: REST v1 `session/info`,
 * which every cluster serves and answers 401 without a session. Any answer from ThoughtSpot's
 * API proves the host name, the network path and TLS; a redirect, an HTML page or a 404 says
 * TS_HOST points somewhere else.
 */
import type { Config } from '../config/load.js'
import {
  describeTransportFailure,
  isHtmlType,
  isJsonType,
  isTimeoutAbort,
} from '../upstream/answers.js'
import { EXIT, failed, passed, type CheckResult } from './check-report.js'

/** The call the check makes; documented in `--help`. */
export const PROBE_PATH = '/callosum/v1/tspublic/v1/session/info'

/** TLS failures that mean "this machine does not trust the certificate". */
const UNTRUSTED_CERT =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED)\b/

function transportProblem(err: unknown, timeoutMs: number): string {
  if (isTimeoutAbort(err)) return `no answer within ${timeoutMs} ms (thoughtspot.timeoutMs)`
  const { cause } = describeTransportFailure(err)
  if (UNTRUSTED_CERT.test(cause)) {
    return `${cause} — the certificate is not trusted here; give the CA with NODE_EXTRA_CA_CERTS`
  }
  if (cause.startsWith('ERR_TLS_CERT_ALTNAME_INVALID')) {
    return `${cause} — the certificate is for another name; check TS_HOST`
  }
  if (cause.startsWith('ENOTFOUND')) return `${cause} — the host name does not resolve`
  return cause
}

/** Calls {@link PROBE_PATH} on the configured host; `config` is valid and not in demo mode. */
export async function checkThoughtSpot(config: Config): Promise<CheckResult> {
  const host = config.thoughtspot.host ?? ''
  const url = `${host}${PROBE_PATH}`
  const { timeoutMs } = config.thoughtspot
  const called = `GET ${PROBE_PATH} (no credentials)`
  let response: Response
  try {
    response = await fetch(url, {
      headers: {
        accept: 'application/json',
        'x-requested-by': 'ThoughtSpot',
        'user-agent': 'thoughtspot-bff-check',
      },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    return failed(
      'thoughtspot',
      EXIT.dependency,
      `${host} is unreachable: ${transportProblem(err, timeoutMs)}`,
      { notes: [`called ${called}`] },
    )
  }
  await response.body?.cancel()
  const { status } = response
  const type = response.headers.get('content-type')
  const fail = (why: string): CheckResult =>
    failed('thoughtspot', EXIT.dependency, `${host} answered ${called} with ${why}`)
  if (status >= 300 && status < 400) {
    return fail(
      `a redirect (HTTP ${status}) to ${response.headers.get('location') ?? '?'}: set TS_HOST to the cluster's final base URL`,
    )
  }
  if (isHtmlType(type)) {
    return fail(
      `an HTML page (HTTP ${status}): a maintenance page, a sign-in portal or a proxy in between, not ThoughtSpot's API`,
    )
  }
  if (status === 404) {
    return fail('HTTP 404: no ThoughtSpot API there; TS_HOST is the base URL, without a path')
  }
  if (status === 401 || (status === 200 && isJsonType(type))) {
    // A plain-http host is already a config warning.
    return passed(
      'thoughtspot',
      `${host} answered ${called} with HTTP ${status}, as ThoughtSpot does: host${host.startsWith('https://') ? ', TLS' : ''} and network path are fine`,
    )
  }
  return fail(
    `HTTP ${status}${type ? ` (${type})` : ''}, which ThoughtSpot does not answer to this call`,
  )
}
