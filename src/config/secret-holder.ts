/**
 * The secrets in force, and their rotation without a restart: on SIGHUP and when a file changes
 * (polled, like the mapping), every secret that came from a file is read again — the ThoughtSpot
 * key and each org's key (the next mint uses the new one), the session secrets (the first signs,
 * all verify: cookies and Redis values alike) and the identity HS256 secret. A file that cannot
 * be read, is empty or holds an unusable value is refused: the old value stays, logged at
 * error. Inline secrets (`TS_SECRET_KEY=…`) never change while the process runs.
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import { unwatchFile, watchFile, type Stats } from 'node:fs'
import type { KeySource } from '../identity/keys.js'
import type { Logger } from '../observability/logger.js'
import {
  hs256SecretProblems,
  readSecretFile,
  sessionSecretProblems,
  splitSessionSecrets,
  type SecretFile,
  type Secrets,
} from './secrets.js'

/** Which secret a file holds; a metric label and the `setting` of log lines. */
export type SecretSetting =
  'TS_SECRET_KEY' | 'TS_ORG_SECRET_KEY' | 'SESSION_SECRET' | 'IDENTITY_HS256_SECRET'

/** What one reload did with one file. */
export interface SecretReload {
  setting: SecretSetting
  /** The org of a `TS_ORG_SECRET_KEY`. */
  orgId?: number
  file: string
  outcome: 'rotated' | 'unchanged' | 'rejected'
}

/** The secrets in force. */
export interface SecretsHolder {
  /** The key to mint in `orgId` with: the org's own key when it has one, else the cluster key. */
  tsSecretKeyFor: (orgId: number) => string
  /** The session secrets (first signs, all verify); the same array until they rotate. */
  sessionSecrets: () => readonly string[]
  /** The identity HS256 secret, or null when another key source is used. */
  identityHs256Secret: () => string | null
  /** Reads every secret file again; says what happened to each. */
  reload(): SecretReload[]
  /** Starts watching the files and SIGHUP; `stop()` undoes both. */
  watch(): void
  stop(): void
}

/** How often each secret file is checked for a change (one stat per interval). */
export const SECRET_POLL_MS = 1000

/** Options of {@link createSecretsHolder}. */
export interface SecretsHolderOptions {
  log: Logger
  /** Which files to read again; default: those the secrets came from. */
  files?: Secrets['files']
  /** Default {@link SECRET_POLL_MS}. */
  pollIntervalMs?: number
  /** Told of every rotated or refused file (metrics). */
  onOutcome?: (setting: SecretSetting, outcome: 'rotated' | 'rejected') => void
}

/** One file to read again: what it holds, and how a new text becomes the value in force. */
interface Entry {
  setting: SecretSetting
  orgId?: number
  source: SecretFile
  /** The value in force, as comparable text. */
  current(): string
  /** Problems of the new text; empty when `apply` may take it. */
  problems(text: string): string[]
  apply(text: string): void
}

/** Builds the holder over the secrets the config loaded. */
export function createSecretsHolder(
  initial: Readonly<Secrets>,
  options: SecretsHolderOptions,
): SecretsHolder {
  const { log } = options
  const files = options.files ?? initial.files
  let tsSecretKey = initial.tsSecretKey
  const orgKeys = new Map(Object.entries(initial.orgSecretKeys).map(([id, key]) => [+id, key]))
  let sessionSecrets: readonly string[] = Object.freeze([...initial.sessionSecrets])
  let hs256Secret = initial.identityHs256Secret

  const entries: Entry[] = []
  const none = (): string[] => []
  if (files.tsSecretKey) {
    entries.push({
      setting: 'TS_SECRET_KEY',
      source: files.tsSecretKey,
      current: () => tsSecretKey,
      problems: none,
      apply: (text) => (tsSecretKey = text),
    })
  }
  for (const [id, source] of Object.entries(files.orgSecretKeys)) {
    const orgId = Number(id)
    entries.push({
      setting: 'TS_ORG_SECRET_KEY',
      orgId,
      source,
      current: () => orgKeys.get(orgId) ?? '',
      problems: none,
      apply: (text) => orgKeys.set(orgId, text),
    })
  }
  if (files.sessionSecrets) {
    entries.push({
      setting: 'SESSION_SECRET',
      source: files.sessionSecrets,
      current: () => sessionSecrets.join(','),
      problems: (text) => sessionSecretProblems(splitSessionSecrets(text)),
      apply: (text) => (sessionSecrets = Object.freeze(splitSessionSecrets(text))),
    })
  }
  if (files.identityHs256Secret) {
    entries.push({
      setting: 'IDENTITY_HS256_SECRET',
      source: files.identityHs256Secret,
      current: () => hs256Secret ?? '',
      problems: hs256SecretProblems,
      apply: (text) => (hs256Secret = text),
    })
  }

  const reloadOne = (entry: Entry): SecretReload => {
    const facts = {
      setting: entry.setting,
      ...(entry.orgId === undefined ? {} : { orgId: entry.orgId }),
      file: entry.source.path,
    }
    const read = readSecretFile(entry.source)
    const problems = 'problem' in read ? [read.problem] : entry.problems(read.value)
    if ('problem' in read || problems.length > 0) {
      log.error(
        { event: 'secrets.rejected', ...facts, problems },
        'new secret file refused; the previous value stays in force',
      )
      options.onOutcome?.(entry.setting, 'rejected')
      return { ...facts, outcome: 'rejected' }
    }
    if (read.value === entry.current()) return { ...facts, outcome: 'unchanged' }
    entry.apply(read.value)
    log.info({ event: 'secrets.rotated', ...facts }, 'secret rotated: in use from now on')
    options.onOutcome?.(entry.setting, 'rotated')
    return { ...facts, outcome: 'rotated' }
  }
  const reload = (): SecretReload[] => entries.map(reloadOne)
  const onSighup = (): void => void reload()
  const paths = [...new Set(entries.map((entry) => entry.source.path))]
  const interval = options.pollIntervalMs ?? SECRET_POLL_MS
  const onChange = (now: Stats, before: Stats): void => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) {
      reload()
    }
  }
  let watching = false

  return {
    tsSecretKeyFor: (orgId) => orgKeys.get(orgId) ?? tsSecretKey,
    sessionSecrets: () => sessionSecrets,
    identityHs256Secret: () => hs256Secret,
    reload,
    watch() {
      if (watching) return
      watching = true
      process.on('SIGHUP', onSighup)
      // Polling, as for the mapping: Kubernetes updates a mounted Secret by a symlink swap,
      // which a stat (it follows links) sees and fs.watch on the path may not.
      for (const path of paths) watchFile(path, { interval, persistent: false }, onChange)
    },
    stop() {
      if (!watching) return
      watching = false
      process.off('SIGHUP', onSighup)
      for (const path of paths) unwatchFile(path, onChange)
    },
  }
}

/**
 * The HS256 key source over a secret that may rotate: jose asks for the key on every
 * verification, and gets the KeyObject of the secret in force (built once per secret, not per
 * request). A JWT signed with the previous secret fails from the moment the new one is read.
 */
export function rotatingHs256Source(secret: () => string | null): KeySource {
  let built: { secret: string; key: KeyObject } | undefined
  return {
    key: function currentHs256Key() {
      const value = secret() ?? ''
      if (built?.secret !== value) {
        built = { secret: value, key: createSecretKey(Buffer.from(value, 'utf8')) }
      }
      return built.key
    },
    algorithms: ['HS256'],
    describe: 'HS256 secret',
  }
}
