// Signing keys: generated on first start, persisted in the store, published in the JWKS with a
// `kid`. A rotation publishes the new key at once and lets it sign only from its activation time
// on (docs/decisions/0009-signing-key-rotation.md): by then every instance has reloaded its keys
// and every API may have refetched the JWKS, so no valid token carries a kid anyone has not seen.
// Previous keys stay published (never used to sign) until every token they signed has expired.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type JsonWebKey, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { ExternalSigningKey, type JWK } from 'oidc-provider';
import { epochSeconds as seconds, systemClock, type Clock } from './clock.ts';
import { RSA_MODULUS_BITS, SIGNING_ALGS, type SigningAlg } from './defaults.ts';
import type { Store, StoredSigningKey } from './storage/store.ts';

export function generateSigningKey(alg: SigningAlg, activatesAt?: number, clock: Clock = systemClock): StoredSigningKey {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: RSA_MODULUS_BITS });
  const createdAt = seconds(clock);
  return {
    kid: randomBytes(12).toString('base64url'), alg, jwk: privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
    createdAt, activatesAt: activatesAt ?? createdAt, retiredAt: null,
  };
}

/**
 * Adds a key that signs from `activationDelaySeconds` from now on and retires the others as of
 * that moment. A delay of 0 switches at once (first start, a change of algorithm, or a
 * compromised key, where refusing some valid tokens for a moment is the lesser evil).
 */
export async function rotateSigningKey(store: Store, alg: SigningAlg, activationDelaySeconds = 0, clock: Clock = systemClock): Promise<StoredSigningKey> {
  const key = generateSigningKey(alg, seconds(clock) + activationDelaySeconds, clock);
  await store.addSigningKeyRetiringOthers(key, { unlessActive: false });
  return key;
}

/**
 * Returns the keys to load, the signing one first (oidc-provider signs with the first key of the
 * algorithm): the newest key of the algorithm already active. Keys waiting for their activation and
 * retired keys follow, published but not signing. Creates a key when none of the algorithm is
 * active, first writer wins: instances starting together on one store (or reloading together after
 * the store lost its keys) all sign with the one key that got in. Deletes retired keys older than
 * `graceSeconds`.
 */
export async function loadSigningKeys(store: Store, alg: SigningAlg, graceSeconds: number, clock: Clock = systemClock): Promise<JWK[]> {
  const t = seconds(clock);
  for (const key of await store.listSigningKeys()) {
    if (key.retiredAt !== null && key.retiredAt + graceSeconds < t) await store.deleteSigningKey(key.kid);
  }
  const activeAt = (keys: StoredSigningKey[], at: number) => keys.find((k) => k.alg === alg && k.activatesAt <= at && (k.retiredAt === null || k.retiredAt > at));
  let keys = await store.listSigningKeys();
  let active = activeAt(keys, t);
  if (!active) {
    // The new key signs from the moment it was made, which may be a second after `t`: it is the
    // signing key whatever `t` says (looking it up by `t` found none when the second turned).
    const made = generateSigningKey(alg, undefined, clock);
    const added = await store.addSigningKeyRetiringOthers(made, { unlessActive: true });
    keys = await store.listSigningKeys();
    active = added ? made : activeAt(keys, made.activatesAt);
    if (!active) throw new Error(`no active ${alg} signing key in the store after adding one`);
  }
  const signingKid = active.kid;
  const ordered = [active, ...keys.filter((k) => k.kid !== signingKid)];
  return ordered.map((k) => ({ ...k.jwk, kid: k.kid, alg: k.alg, use: 'sig' }) as JWK);
}

/** A fingerprint of the published key set and of the key that signs, to notice a rotation or an activation. */
export function keySetFingerprint(keys: JWK[]): string {
  return keys.map((k) => k.kid).join(',');
}

/**
 * A signing key as oidc-provider's external signing support takes it: the JWS signing input is
 * signed here with `node:crypto.sign`, on this thread, with a KeyObject made once per key.
 * oidc-provider's own path (jose over WebCrypto) sends every signature to libuv's thread pool and
 * back: on a refresh grant's two signatures that hand-off cost more CPU than the signing saved the
 * main thread (bench/README.md, "What a refresh grant costs"). Same keys, same JWS bytes.
 */
export class LocalSigningKey extends ExternalSigningKey {
  readonly #kid: string;
  readonly #alg: SigningAlg;
  readonly #privateKey: SignKeyObjectInput;
  readonly #publicKey: KeyObject;

  constructor(jwk: JWK) {
    super();
    if (typeof jwk.kid !== 'string' || !SIGNING_ALGS.includes(jwk.alg as SigningAlg)) throw new Error(`signing key ${jwk.kid}: unsupported algorithm ${jwk.alg}`);
    this.#kid = jwk.kid;
    this.#alg = jwk.alg as SigningAlg;
    const key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    // JWS wants ECDSA signatures as r || s (IEEE P1363), not DER.
    this.#privateKey = this.#alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : { key };
    this.#publicKey = createPublicKey(key);
  }

  override get kid(): string {
    return this.#kid;
  }

  override get alg(): string {
    return this.#alg;
  }

  /** The public key: oidc-provider publishes it in the JWKS and verifies ID token hints with it. */
  override keyObject(): KeyObject {
    return this.#publicKey;
  }

  override sign(data: Uint8Array): Uint8Array {
    return sign('sha256', data, this.#privateKey);
  }
}
