/**
 * Which JWS algorithms each kind of key may verify. A key source accepts only its key's
 * algorithms, so a token whose `alg` does not fit the key (`none`, HS256 against a public key)
 * is refused before any signature is checked.
 */

/** RSA keys: PKCS#1 v1.5 and PSS. */
export const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']

/** EC keys by Node's curve name (a PEM key's `namedCurve`). */
export const EC_ALGS_BY_CURVE: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
}

/** EC keys by JWK curve name (`crv`). */
export const EC_ALGS_BY_JWK_CURVE: Readonly<Record<string, string>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
}

/** Ed25519 keys. */
export const EDDSA_ALGS = ['EdDSA', 'Ed25519']

/** Every asymmetric algorithm a JWKS may use; symmetric ones can never come from a JWKS. */
export const JWKS_ALGS = [...RSA_ALGS, 'ES256', 'ES384', 'ES512', ...EDDSA_ALGS]
