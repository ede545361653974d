// What the BFF keeps on the server, and the interface every store implements (SQLite for the
// processes of one host sharing its file, Redis for instances anywhere). A store knows nothing of
// tokens: `payload` arrives already encrypted where it holds them (see session-manager.ts). Times
// are epoch milliseconds.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** One signed-in browser. `key` is the SHA-256 of the cookie's session id, never the id itself. */
export interface SessionRecord {
  key: string;
  /** The user at the IdP, indexed for back-channel logout by `sub`. */
  sub: string;
  /** The IdP's session id from the ID token, indexed for back-channel logout by `sid`. */
  sid: string | null;
  createdAt: number;
  /** Sliding: pushed forward by use, never past `absoluteExpiresAt`. */
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  /** JSON of the session's data; its tokens are encrypted. */
  payload: string;
}

export interface SessionStore {
  readonly kind: 'sqlite' | 'redis';
  create(session: SessionRecord): Promise<void>;
  /** The session, unless missing or expired at `now`. */
  get(key: string, now: number): Promise<SessionRecord | undefined>;
  /** Replaces an existing session's payload and expiry; false (and nothing written) when it is gone. */
  update(session: SessionRecord): Promise<boolean>;
  /**
   * Pushes an existing session's idle expiry forward to `idleExpiresAt` (never back), leaving the
   * rest as it is (another instance may have renewed the tokens meanwhile); false when it is gone.
   */
  touch(key: string, idleExpiresAt: number): Promise<boolean>;
  /** Removes the session and answers what it was (so that exactly one caller gets to revoke its tokens). */
  destroy(key: string): Promise<SessionRecord | undefined>;
  /** Ends every session of one IdP session; answers how many. For back-channel logout. */
  destroyBySid(sid: string): Promise<number>;
  /** Ends every session of one user; answers how many. For back-channel logout without `sid`. */
  destroyBySub(sub: string): Promise<number>;
  /**
   * True the first time `id` is presented before `expiresAt`, false on every later call on any
   * instance: the replay guard of back-channel logout tokens (`jti`).
   */
  firstUse(id: string, expiresAt: number): Promise<boolean>;
  /** Whether `firstUse(id)` was called and its entry has not expired at `now` (no write). */
  used(id: string, now: number): Promise<boolean>;
  /**
   * Runs `fn` holding the named lock on every instance sharing this store (every process on the
   * SQLite file, every instance on Redis). A holder that dies keeps it for at most `ttlMs`.
   * Throws LockTimeoutError when the lock is not free within `waitMs`.
   */
  withLock<T>(name: string, fn: () => Promise<T>, options: { ttlMs: number; waitMs: number }): Promise<T>;
  /**
   * For an in-memory copy of sessions (see session-cache.ts): `listener` hears, synchronously, the
   * key of every session this store object changes or ends, and null when sessions may have
   * changed in a way it cannot name (forget them all).
   */
  onChange(listener: (key: string | null) => void): void;
  /**
   * Whether a session held in memory since it was last read or written through this store object
   * may still be used: false once it was ended elsewhere (another connection, process or
   * instance), and false when the store cannot tell which sessions changed elsewhere. A renewal
   * elsewhere may go unnoticed: the older access token stays valid until its own expiry, and a
   * renewal reads the session again under the refresh lock. Answered without I/O when it can be.
   */
  stillCurrent(key: string): boolean | Promise<boolean>;
  /** Throws when the store cannot be used (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class LockTimeoutError extends Error {
  constructor(name: string) {
    super(`lock ${name} not acquired in time`);
    this.name = 'LockTimeoutError';
  }
}

/** A lock within one process: callers of the same name run one after the other. */
export class LocalLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(name) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.then(() => undefined, () => undefined);
    this.#tails.set(name, tail);
    try {
      return await result;
    } finally {
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    }
  }
}

/** How often a waiter asks the shared store whether a lock it wants is free. */
export const LOCK_POLL_MS = 20;

/** A store's lock primitive: one entry per name, with a holder's token and an expiry. */
export interface LockTable {
  /** Takes `name` for `token` for `ttlMs` unless a live entry of another holder exists; true when taken. */
  take(name: string, token: string, ttlMs: number): boolean | Promise<boolean>;
  /** Frees `name` if `token` still holds it (never another holder's lock). */
  release(name: string, token: string): unknown;
}

/**
 * A lock across every instance sharing a store: a random token per hold, released only by its
 * holder, expiring after `ttlMs` if the holder dies. Callers of this process queue locally
 * first, so only one of them polls the store.
 */
export class SharedLocks {
  readonly #local = new LocalLocks();
  readonly #table: LockTable;
  readonly #now: () => number;

  /** `now`: the clock that bounds the wait (the store's own clock, when it keeps expiries itself). */
  constructor(table: LockTable, now: () => number = Date.now) {
    this.#table = table;
    this.#now = now;
  }

  run<T>(name: string, fn: () => Promise<T>, { ttlMs, waitMs }: { ttlMs: number; waitMs: number }): Promise<T> {
    return this.#local.run(name, async () => {
      const token = randomBytes(16).toString('base64url');
      const deadline = this.#now() + waitMs;
      while (!(await this.#table.take(name, token, ttlMs))) {
        if (this.#now() >= deadline) throw new LockTimeoutError(name);
        await sleep(LOCK_POLL_MS);
      }
      try {
        return await fn();
      } finally {
        // A release that fails leaves the entry to expire after ttlMs.
        try {
          await this.#table.release(name, token);
        } catch {}
      }
    });
  }
}
