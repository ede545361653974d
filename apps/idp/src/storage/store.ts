// What the IdP keeps, behind one interface so that SQLite (one instance) and Redis (several
// instances) are interchangeable. Every method is atomic on its own; `consume` in particular
// marks a code or refresh token used exactly once, however many requests race for it.

export type Payload = Record<string, unknown>;

/** Outcome of an attempt to mark a single-use artifact consumed. */
export type ConsumeOutcome = 'consumed' | 'already-consumed' | 'not-found';

export interface StoredSigningKey {
  kid: string;
  alg: string;
  /** Private JWK (JSON). */
  jwk: Record<string, unknown>;
  createdAt: number;
  /** When a newer key took over signing; the key stays published until every token it signed expired. */
  retiredAt: number | null;
}

/** Models that belong to a grant and die with it. */
export const GRANT_MEMBERS = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

export interface Store {
  upsert(model: string, id: string, payload: Payload, expiresInSeconds: number | undefined): Promise<void>;
  find(model: string, id: string): Promise<Payload | undefined>;
  findByUid(model: string, uid: string): Promise<Payload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<Payload | undefined>;
  consume(model: string, id: string): Promise<ConsumeOutcome>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /** Deletes the grant and every artifact issued under it. */
  revokeGrant(grantId: string): Promise<void>;
  grantIdOf(model: string, id: string): Promise<string | undefined>;

  listSigningKeys(): Promise<StoredSigningKey[]>;
  addSigningKey(key: StoredSigningKey): Promise<void>;
  /** Marks every unretired key but `kid` retired at `at`. */
  retireSigningKeysExcept(kid: string, at: number): Promise<void>;
  deleteSigningKey(kid: string): Promise<void>;

  /** Returns the stored value, storing `value` first if there was none (first writer wins). */
  getOrSetSetting(name: string, value: string): Promise<string>;

  /** Counts a failure under `key` in a fixed window; returns the count in the current window. */
  recordFailure(key: string, windowSeconds: number): Promise<number>;
  failureCount(key: string, windowSeconds: number): Promise<number>;
  clearFailures(key: string): Promise<void>;

  close(): Promise<void>;
}
