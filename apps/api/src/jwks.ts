// The issuer's signing keys, from its JWKS and nowhere else. Keys are imported once into
// node:crypto KeyObjects and looked up by kid on the hot path without any await. The set is
// refreshed in the background when stale, and at most once per cooldown when a token names an
// unknown kid; a failed fetch never drops the keys already held, so tokens keep validating while
// the IdP is down. A key that leaves the set is marked retired, which invalidates every cached
// verification made with it.
import { createPublicKey, constants, type KeyObject } from 'node:crypto';
import { JWKS_NEW_KID_REFETCHES_PER_COOLDOWN, MIN_RSA_MODULUS_BITS, type Algorithm } from './defaults.ts';
import { fetchIdpJson } from './idp-client.ts';

/** How node:crypto.verify is called for one algorithm with one key. */
export interface VerifyParams {
  readonly hash: string | null;
  readonly key: KeyObject | { key: KeyObject; padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' };
  /** Exact signature length in bytes. */
  readonly signatureLength: number;
}

export interface SigningKey {
  readonly kid: string | undefined;
  /** Key material identity, to recognise the same key across refreshes. */
  readonly fingerprint: string;
  /** Algorithms (of the allowlist) this key may verify, with their parameters. */
  readonly params: ReadonlyMap<Algorithm, VerifyParams>;
  retired: boolean;
}

export interface JwksOptions {
  uri: string;
  algorithms: readonly Algorithm[];
  maxAgeMs: number;
  cooldownMs: number;
  now?: () => number;
  onError?: (message: string) => void;
  onChange?: (added: number, retired: number) => void;
  /** Called with each JWKS document fetched and found usable (to keep a copy). */
  onFetched?: (body: Record<string, unknown>) => void;
}

const EC_CURVES: Record<string, { curve: string; size: number }> = {
  ES256: { curve: 'P-256', size: 32 },
  ES384: { curve: 'P-384', size: 48 },
  ES512: { curve: 'P-521', size: 66 },
};

function hashOf(alg: Algorithm): string | null {
  if (alg === 'EdDSA') return null;
  return `sha${alg.slice(2)}`;
}

/** The algorithms of the allowlist a JWK may be used with, and how; empty when unusable. */
function verifyParamsFor(jwk: Record<string, unknown>, key: KeyObject, allowlist: readonly Algorithm[]): Map<Algorithm, VerifyParams> {
  const params = new Map<Algorithm, VerifyParams>();
  for (const alg of allowlist) {
    if (typeof jwk.alg === 'string' && jwk.alg !== alg) continue;
    const family = alg.slice(0, 2);
    if ((family === 'RS' || family === 'PS') && jwk.kty === 'RSA') {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_MODULUS_BITS) continue;
      const keyArg = family === 'RS' ? key : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
      params.set(alg, { hash: hashOf(alg), key: keyArg, signatureLength: Math.ceil(bits / 8) });
    } else if (family === 'ES' && jwk.kty === 'EC' && jwk.crv === EC_CURVES[alg]?.curve) {
      params.set(alg, { hash: hashOf(alg), key: { key, dsaEncoding: 'ieee-p1363' }, signatureLength: 2 * EC_CURVES[alg]!.size });
    } else if (alg === 'EdDSA' && jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448')) {
      params.set(alg, { hash: null, key, signatureLength: jwk.crv === 'Ed25519' ? 64 : 114 });
    }
  }
  return params;
}

/** Public members only: a JWKS that (wrongly) publishes private parts still yields public keys. */
function publicJwk(jwk: Record<string, unknown>): Record<string, unknown> | undefined {
  const str = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length < 4096;
  if (jwk.kty === 'RSA' && str(jwk.n) && str(jwk.e)) return { kty: 'RSA', n: jwk.n, e: jwk.e };
  if (jwk.kty === 'EC' && str(jwk.crv) && str(jwk.x) && str(jwk.y)) return { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
  if (jwk.kty === 'OKP' && str(jwk.crv) && str(jwk.x)) return { kty: 'OKP', crv: jwk.crv, x: jwk.x };
  return undefined;
}

export function importJwks(body: Record<string, unknown>, allowlist: readonly Algorithm[]): SigningKey[] {
  if (!Array.isArray(body.keys)) throw new Error('JWKS has no keys array');
  const out: SigningKey[] = [];
  for (const entry of body.keys.slice(0, 100)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const jwk = entry as Record<string, unknown>;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue;
    if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length === 0)) continue;
    const pub = publicJwk(jwk);
    if (!pub) continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch {
      continue;
    }
    const params = verifyParamsFor(jwk, key, allowlist);
    if (params.size === 0) continue;
    out.push({ kid: jwk.kid as string | undefined, fingerprint: JSON.stringify(pub), params, retired: false });
  }
  return out;
}

function usableKeys(body: Record<string, unknown>, allowlist: readonly Algorithm[]): SigningKey[] {
  const keys = importJwks(body, allowlist);
  if (keys.length === 0) throw new Error('JWKS holds no key usable with the allowed algorithms');
  return keys;
}

export class Jwks {
  private readonly opts: JwksOptions;
  private readonly now: () => number;
  private byKid = new Map<string, SigningKey>();
  private withoutKid: SigningKey[] = [];
  private loadedAt = -Infinity;
  private attemptedAt = -Infinity;
  /** Kids that made us refetch since the cooldown last began, and the refetches beyond the first. */
  private readonly kidsRefetchedFor = new Set<string>();
  private newKidRefetches = 0;
  private inFlight: Promise<void> | undefined;
  /** Completed HTTP fetches of the JWKS (observability and tests). */
  fetchCount = 0;

  constructor(opts: JwksOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  get loaded(): boolean {
    return this.loadedAt > -Infinity;
  }

  get size(): number {
    return this.byKid.size + this.withoutKid.length;
  }

  /**
   * The key for a token's kid and alg, synchronously, or undefined when not held. A token without
   * kid is only accepted when exactly one held key fits its alg.
   */
  lookup(kid: string | undefined, alg: Algorithm): SigningKey | undefined {
    if (this.now() - this.loadedAt > this.opts.maxAgeMs) this.refreshInBackground();
    if (kid !== undefined) {
      const key = this.byKid.get(kid);
      return key && key.params.has(alg) ? key : undefined;
    }
    const fits = [...this.byKid.values(), ...this.withoutKid].filter((k) => k.params.has(alg));
    return fits.length === 1 ? fits[0] : undefined;
  }

  /**
   * Called for an unknown kid: refetches when no fetch happened within the cooldown, or when this
   * kid has not made us refetch yet in this cooldown (a key just published, while we fetched a
   * moment ago for another reason), the latter at most JWKS_NEW_KID_REFETCHES_PER_COOLDOWN times,
   * so a flood of made-up kids costs a few fetches per cooldown. Otherwise resolves at once.
   * Concurrent callers share one fetch.
   */
  async refreshForUnknownKey(kid: string | undefined): Promise<void> {
    if (this.inFlight) return this.inFlight.catch(() => {});
    const now = this.now();
    if (now - this.attemptedAt >= this.opts.cooldownMs) {
      this.kidsRefetchedFor.clear();
      this.newKidRefetches = 0;
    } else if (kid === undefined || this.kidsRefetchedFor.has(kid) || this.newKidRefetches >= JWKS_NEW_KID_REFETCHES_PER_COOLDOWN) {
      return;
    } else {
      this.newKidRefetches++;
    }
    if (kid !== undefined) this.kidsRefetchedFor.add(kid);
    return this.refresh().catch(() => {});
  }

  /** Fetches now (shared with any fetch already in flight); rejects when the fetch fails. */
  refresh(): Promise<void> {
    if (!this.inFlight) {
      this.attemptedAt = this.now();
      this.inFlight = this.fetchAndReplace().finally(() => { this.inFlight = undefined; });
    }
    return this.inFlight;
  }

  private refreshInBackground(): void {
    if (this.inFlight || this.now() - this.attemptedAt < this.opts.cooldownMs) return;
    this.refresh().catch(() => {});
  }

  /** Where the set is fetched from (discovery's jwks_uri; it may change when discovery is re-read). */
  get uri(): string {
    return this.opts.uri;
  }

  set uri(uri: string) {
    this.opts.uri = uri;
  }

  /** Takes the keys of a JWKS document held elsewhere (the copy kept on disk); throws when none is usable. */
  load(body: Record<string, unknown>): void {
    this.replace(usableKeys(body, this.opts.algorithms));
    this.loadedAt = this.now();
  }

  private async fetchAndReplace(): Promise<void> {
    let keys: SigningKey[];
    let body: Record<string, unknown>;
    try {
      body = await fetchIdpJson(this.opts.uri);
      this.fetchCount++;
      keys = usableKeys(body, this.opts.algorithms);
    } catch (err) {
      this.opts.onError?.((err as Error).message);
      throw err;
    }
    this.replace(keys);
    this.loadedAt = this.now();
    this.opts.onFetched?.(body);
  }

  private replace(fresh: SigningKey[]): void {
    const old = [...this.byKid.values(), ...this.withoutKid];
    const keep = new Map(old.map((k) => [`${k.kid ?? ''}|${k.fingerprint}`, k]));
    const byKid = new Map<string, SigningKey>();
    const withoutKid: SigningKey[] = [];
    const live = new Set<SigningKey>();
    for (const k of fresh) {
      // The same kid and material keeps its object, so verifications cached with it stay valid.
      const key = keep.get(`${k.kid ?? ''}|${k.fingerprint}`) ?? k;
      if (key.kid === undefined) withoutKid.push(key);
      else if (!byKid.has(key.kid)) byKid.set(key.kid, key);
      else continue; // duplicate kid: the first wins
      live.add(key);
    }
    let retired = 0;
    for (const k of old) {
      if (!live.has(k)) {
        k.retired = true;
        retired++;
      }
    }
    const added = [...live].filter((k) => !old.includes(k)).length;
    this.byKid = byKid;
    this.withoutKid = withoutKid;
    if (added > 0 || retired > 0) this.opts.onChange?.(added, retired);
  }
}
