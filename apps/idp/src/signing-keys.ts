// Signing keys: generated on first start, persisted in the store, published in the JWKS with a
// `kid`. Rotation adds a new key that signs from then on; the previous keys stay published (never
// used to sign) until every token they signed has expired, then they are removed.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JWK } from 'oidc-provider';
import { RSA_MODULUS_BITS, type SigningAlg } from './defaults.ts';
import type { Store, StoredSigningKey } from './storage/store.ts';

const now = () => Math.floor(Date.now() / 1000);

export function generateSigningKey(alg: SigningAlg): StoredSigningKey {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: RSA_MODULUS_BITS });
  return { kid: randomBytes(12).toString('base64url'), alg, jwk: privateKey.export({ format: 'jwk' }) as Record<string, unknown>, createdAt: now(), retiredAt: null };
}

/** Adds a new active key and retires the others. */
export async function rotateSigningKey(store: Store, alg: SigningAlg): Promise<StoredSigningKey> {
  const key = generateSigningKey(alg);
  await store.addSigningKey(key);
  await store.retireSigningKeysExcept(key.kid, key.createdAt);
  return key;
}

/**
 * Returns the keys to load, the active one first (oidc-provider signs with the first key of the
 * algorithm). Creates a key when none is active or the active one has another algorithm, and
 * deletes retired keys older than `graceSeconds`.
 */
export async function loadSigningKeys(store: Store, alg: SigningAlg, graceSeconds: number): Promise<JWK[]> {
  let keys = await store.listSigningKeys();
  for (const key of keys) {
    if (key.retiredAt !== null && key.retiredAt + graceSeconds < now()) await store.deleteSigningKey(key.kid);
  }
  const active = keys.find((k) => k.retiredAt === null);
  if (!active || active.alg !== alg) await rotateSigningKey(store, alg);
  keys = await store.listSigningKeys();
  const ordered = [...keys.filter((k) => k.retiredAt === null), ...keys.filter((k) => k.retiredAt !== null)];
  return ordered.map((k) => ({ ...k.jwk, kid: k.kid, alg: k.alg, use: 'sig' }) as JWK);
}

/** A fingerprint of the published key set, to notice a rotation made by another process. */
export function keySetFingerprint(keys: JWK[]): string {
  return keys.map((k) => k.kid).join(',');
}
