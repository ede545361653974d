// What the IdP keeps, behind one interface so that SQLite (one instance) and Redis (several
// instances) are interchangeable. Every method is atomic on its own; `consume` in particular
// marks a code or refresh token used exactly once, however many requests race for it.
import { INSTANCE_CLOCK_SKEW_SECONDS } from '../defaults.ts';

export type Payload = Record<string, unknown>;

/** Outcome of an attempt to mark a single-use artifact consumed. */
export type ConsumeOutcome = 'consumed' | 'already-consumed' | 'not-found';

export interface StoredSigningKey {
  kid: string;
  alg: string;
  /** Private JWK (JSON). */
  jwk: Record<string, unknown>;
  createdAt: number;
  /** When the key starts signing: a rotation publishes a key ahead of this, so that every instance and API knows it first. */
  activatesAt: number;
  /** When a newer key took over signing; the key stays published until every token it signed expired. */
  retiredAt: number | null;
}

/** What /readyz reports about the store. */
export type StoreHealth = { ok: true } | { ok: false; reason: string };

/**
 * The store cannot serve requests right now (Redis unreachable, disk full, read-only volume).
 * Shaped like oidc-provider's errors, so its routes answer 503 `temporarily_unavailable` instead
 * of a 500; `reason` names the store and the cause for the log, never for the client.
 */
export class StoreUnavailableError extends Error {
  readonly statusCode = 503;
  readonly status = 503;
  readonly expose = true;
  readonly error = 'temporarily_unavailable';
  readonly error_description = 'the identity provider cannot reach its store; retry later';
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super('temporarily_unavailable', options);
    this.name = 'StoreUnavailableError';
    this.reason = reason;
  }
}

/**
 * Whether a refresh token used `elapsedSeconds` ago may be retried: within the interval, and not
 * used further ahead of the clock than the instances' skew allows (a clock stepped back would
 * otherwise stretch the interval by the step).
 */
export function withinReuseInterval(elapsedSeconds: number, intervalSeconds: number): boolean {
  return elapsedSeconds <= intervalSeconds && elapsedSeconds >= -INSTANCE_CLOCK_SKEW_SECONDS;
}

/** Models that belong to a grant and die with it. */
export const GRANT_MEMBERS = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

export interface AttemptCounter {
  key: string;
  /** Attempts allowed in one window; undefined counts without limiting. */
  limit?: number;
}

export type AttemptReservation =
  | { granted: true; counts: number[] }
  | { granted: false; retryAfterSeconds: number };

export interface Store {
  upsert(model: string, id: string, payload: Payload, expiresInSeconds: number | undefined): Promise<void>;
  find(model: string, id: string): Promise<Payload | undefined>;
  findByUid(model: string, uid: string): Promise<Payload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<Payload | undefined>;
  consume(model: string, id: string): Promise<ConsumeOutcome>;
  /**
   * The refresh-token reuse interval: true when the refresh token `id` was consumed at most
   * `intervalSeconds` ago and no later token of its grant has been used since. With `claim`, the
   * check is atomic with removing the unused successors issued so far, so that the retry's new
   * successor is the grant's only live refresh token.
   */
  reusableWithinInterval(id: string, intervalSeconds: number, claim: boolean): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /** Deletes the grant and every artifact issued under it. */
  revokeGrant(grantId: string): Promise<void>;
  grantIdOf(model: string, id: string): Promise<string | undefined>;

  listSigningKeys(): Promise<StoredSigningKey[]>;
  addSigningKey(key: StoredSigningKey): Promise<void>;
  /**
   * In one atomic step: adds `key` and retires every other key as of its activation (unless it
   * retires earlier already); returns whether it did. With `unlessActive`, does nothing when a key
   * of `key.alg` is active at `key.activatesAt` (activated, not retired): what instances starting
   * on one store (or reloading after it lost its keys) call at once, so that one key wins and every
   * instance signs with it. One step, so a rotation cut short never leaves the old key unretired.
   */
  addSigningKeyRetiringOthers(key: StoredSigningKey, opts: { unlessActive: boolean }): Promise<boolean>;
  /** Marks every key but `kid` retired at `at`, unless it retires earlier already. */
  retireSigningKeysExcept(kid: string, at: number): Promise<void>;
  deleteSigningKey(kid: string): Promise<void>;

  /** Returns the stored value, storing `value` first if there was none (first writer wins). */
  getOrSetSetting(name: string, value: string): Promise<string>;

  /**
   * Login attempts, counted per key in fixed windows. In one atomic step: when no counter with a
   * limit has reached it, every counter is incremented and the new counts are returned; otherwise
   * nothing changes and the answer says when the blocking counter's window ends. Reserving before
   * the password is checked is what keeps the limit under parallel requests.
   */
  reserveAttempt(counters: readonly AttemptCounter[], windowSeconds: number): Promise<AttemptReservation>;
  /** Gives back one reserved attempt under `key` (a success is not a failure). */
  releaseAttempt(key: string): Promise<void>;
  clearAttempts(key: string): Promise<void>;

  /** Whether the store can serve requests now (Redis answers; SQLite writable with free space). */
  health(): Promise<StoreHealth>;

  close(): Promise<void>;
}
