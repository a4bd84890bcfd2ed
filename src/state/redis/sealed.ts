/**
 * Values at rest in Redis are sealed: a ThoughtSpot token, a held session's cookie and an app
 * session are each bearer credentials or personal data, and a Redis dump, a replica or a `MONITOR`
 * must not hand them out. AES-256-GCM with a key derived (HKDF-SHA256) from each session secret:
 * the first secret seals, every secret opens (the same rotation as the session cookie), and the
 * Redis key a value is stored under is its additional data, so a value copied to another key does
 * not open. Key names carry no username in clear: they hold {@link nameHash}es.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'

/** Seals and opens values for Redis. */
export interface Sealer {
  /** `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts), bound to `aad`. */
  seal(plaintext: string, aad: string): string
  /** The plaintext, or null when no current secret opens it (rotated out, or tampered with). */
  open(sealed: string, aad: string): string | null
}

const VERSION = 'v1'
const HKDF_INFO = 'thoughtspot-bff redis values v1'
const IV_BYTES = 12
/**
 * GCM's tag is always checked at its full length: without `authTagLength` Node accepts a tag of
 * 4 to 16 bytes, and a shortened tag is that much easier to forge by writing to Redis.
 */
const TAG_BYTES = 16

interface DerivedKey {
  kid: string
  key: Buffer
}

function derive(secret: string, salt: string): DerivedKey {
  const key = Buffer.from(hkdfSync('sha256', secret, salt, HKDF_INFO, 32))
  // The key id names which secret sealed a value without revealing anything about the key.
  const kid = createHash('sha256').update(key).update('kid').digest('base64url').slice(0, 8)
  return { kid, key }
}

/**
 * A sealer over the session secrets (first seals, all open). `salt` is the deployment's key
 * prefix, so two deployments sharing one Redis and one secret still cannot open each other's
 * values. Given a function, the secrets are asked for at each use and the keys derived again
 * whenever it returns another list (rotation without a restart).
 */
export function createSealer(
  secrets: readonly string[] | (() => readonly string[]),
  salt: string,
): Sealer {
  const current = typeof secrets === 'function' ? secrets : () => secrets
  let derived: { from: readonly string[]; byKid: Map<string, Buffer>; sealing: DerivedKey } | null =
    null
  const keysNow = () => {
    const list = current()
    if (derived?.from !== list) {
      if (list.length === 0) throw new Error('sealing needs at least one secret')
      const keys = list.map((secret) => derive(secret, salt))
      const byKid = new Map(keys.map((entry) => [entry.kid, entry.key]))
      derived = { from: list, byKid, sealing: keys[0] as DerivedKey }
    }
    return derived
  }
  keysNow()
  return {
    seal(plaintext, aad) {
      const { sealing } = keysNow()
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', sealing.key, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(Buffer.from(aad, 'utf8'))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return [
        VERSION,
        sealing.kid,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.')
    },
    open(sealed, aad) {
      const [version, kid, iv, body, tag] = sealed.split('.')
      if (version !== VERSION || !kid || !iv || body === undefined || !tag) return null
      const key = keysNow().byKid.get(kid)
      if (!key) return null
      const authTag = Buffer.from(tag, 'base64url')
      if (authTag.length !== TAG_BYTES) return null
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
          authTagLength: TAG_BYTES,
        })
        decipher.setAAD(Buffer.from(aad, 'utf8'))
        decipher.setAuthTag(authTag)
        return Buffer.concat([
          decipher.update(Buffer.from(body, 'base64url')),
          decipher.final(),
        ]).toString('utf8')
      } catch {
        return null
      }
    },
  }
}

/**
 * What stands for a username (or an IP) in a Redis key name: a SHA-256, not reversible. It is
 * not keyed by a secret on purpose: key names must stay the same while secrets rotate, or two
 * replicas mid-rollout would not find each other's entries (and logout would miss tokens).
 */
export function nameHash(kind: string, name: string): string {
  return createHash('sha256').update(`${kind}\u0000${name}`).digest('base64url').slice(0, 27)
}
