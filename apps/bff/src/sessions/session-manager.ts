// Server-side sessions: created from a login's tokens, found by the cookie's random id, kept alive
// by use (sliding idle timeout, capped by an absolute lifetime), tokens encrypted at rest, and the
// access token renewed before it expires with one refresh per session at a time: requests of this
// instance that need a renewal while one is running wait for it, and the store's lock keeps other
// instances (processes on the SQLite file, instances on Redis) out until it is written (refresh
// tokens rotate: a second refresh with the same token would make the IdP revoke the whole grant).
import { hash, randomBytes } from 'node:crypto';
import { RANDOM_ID_BYTES } from '../defaults.ts';
import { GrantRevokedError, IdpRefusedClientError, IdpUnavailableError, type IdpClient, type TokenSet } from '../idp-client.ts';
import type { TokenCipher } from '../token-cipher.ts';
import { SessionCache } from './session-cache.ts';
import { LockTimeoutError, type SessionRecord, type SessionStore } from './session-store.ts';

export interface SessionTokens {
  accessToken: string;
  refreshToken?: string | undefined;
  idToken?: string | undefined;
}

export interface Renewal {
  at: number;
  ok: boolean;
  detail?: string;
}

/** A session as the routes see it: decrypted, never sent to the browser as it is. */
export interface Session extends Omit<SessionRecord, 'payload'> {
  claims: Record<string, unknown>;
  scopes: string[];
  accessTokenIssuedAt: number;
  accessTokenExpiresAt: number;
  lastRenewal: Renewal | null;
  /** Counts refreshes; a renewal decided on an older generation is already done. */
  generation: number;
  tokens: SessionTokens;
}

/** What the store's payload holds (tokens sealed). */
interface Payload extends Omit<Session, 'key' | 'sub' | 'sid' | 'createdAt' | 'idleExpiresAt' | 'absoluteExpiresAt' | 'tokens'> {
  tokens: string;
}

/** The largest share of an access token's life that renewal may come before its expiry. */
const MAX_RENEW_BEFORE_SHARE = 3 / 4;

/** The session is over (signed out, expired, or its grant revoked at the IdP): answer 401. */
export class SessionEndedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SessionEndedError';
  }
}

export type AuditLog = (event: string, fields: Record<string, unknown>) => void;

export interface SessionManagerOptions {
  store: SessionStore;
  cipher: TokenCipher;
  idp: IdpClient;
  now: () => number;
  idleTtlMs: number;
  absoluteTtlMs: number;
  renewBeforeMs: number;
  touchIntervalMs: number;
  /** Most decrypted sessions kept in memory (0: none). */
  cacheSize: number;
  /** Lifetime assumed when the token endpoint gives no expires_in. */
  defaultAccessTokenTtlMs: number;
  lock: { ttlMs: number; waitMs: number };
  audit: AuditLog;
}

/** Claims never shown to the browser: they only matter to the protocol. */
const PROTOCOL_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash', 'sid']);
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export function randomId(): string {
  return randomBytes(RANDOM_ID_BYTES).toString('base64url');
}

export function sha256(value: string): string {
  // One-shot: no Hash object per call (every request hashes its cookie).
  return hash('sha256', value, 'base64url');
}

/** A short, non-reversible reference to a session for log lines. */
export function sessionRef(key: string): string {
  return sha256(key).slice(0, 12);
}

export class SessionManager {
  readonly #o: SessionManagerOptions;
  readonly #inflight = new Map<string, Promise<Session>>();
  readonly #cache: SessionCache;

  constructor(options: SessionManagerOptions) {
    this.#o = options;
    this.#cache = new SessionCache(options.store, options.cacheSize);
  }

  get store(): SessionStore {
    return this.#o.store;
  }

  /** A new session from a login's tokens, under a fresh id (never one the browser brought). */
  async create(tokens: TokenSet): Promise<{ id: string; session: Session }> {
    const claims = tokens.claims;
    if (!claims || typeof claims['sub'] !== 'string') throw new Error('the token response has no ID token with a subject');
    const now = this.#o.now();
    const id = randomId();
    const session: Session = {
      key: sha256(id),
      sub: claims['sub'],
      sid: typeof claims['sid'] === 'string' ? claims['sid'] : null,
      createdAt: now,
      idleExpiresAt: Math.min(now + this.#o.idleTtlMs, now + this.#o.absoluteTtlMs),
      absoluteExpiresAt: now + this.#o.absoluteTtlMs,
      claims: visibleClaims(claims),
      scopes: (tokens.scope ?? '').split(' ').filter(Boolean),
      accessTokenIssuedAt: now,
      accessTokenExpiresAt: now + this.#accessTokenTtlMs(tokens),
      lastRenewal: null,
      generation: 0,
      tokens: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, idToken: tokens.idToken },
    };
    const epoch = this.#cache.epoch;
    await this.#o.store.create(this.#toRecord(session));
    // Kept in memory from the start: the page the callback redirects to asks for /bff/user and the
    // API at once, and would otherwise read and decrypt the session the callback just wrote.
    this.#cache.add(session, epoch);
    return { id, session };
  }

  /**
   * The session a cookie value names, its idle timeout pushed forward; undefined when there is none.
   * Answered without a promise when memory and a synchronous store check suffice (SQLite, no touch
   * due: most API calls), so the proxied call's hot path allocates and awaits nothing.
   */
  load(cookieValue: string | undefined): Session | undefined | Promise<Session | undefined> {
    if (!cookieValue || !SESSION_ID.test(cookieValue)) return undefined;
    const key = sha256(cookieValue);
    const now = this.#o.now();
    const cached = this.#cache.get(key);
    if (!cached) return this.#loadStored(key, now);
    // Past its idle time in memory it may still live in the store (another instance used it).
    if (now >= cached.idleExpiresAt || now >= cached.absoluteExpiresAt) return this.#forgetAndLoad(key, now);
    const current = this.#o.store.stillCurrent(key);
    if (current === true) return this.#slide(cached, now);
    if (current === false) return this.#forgetAndLoad(key, now);
    return current.then((ok) => (ok ? this.#slide(cached, now) : this.#forgetAndLoad(key, now)));
  }

  #forgetAndLoad(key: string, now: number): Promise<Session | undefined> {
    this.#cache.forget(key);
    return this.#loadStored(key, now);
  }

  async #loadStored(key: string, now: number): Promise<Session | undefined> {
    const epoch = this.#cache.epoch;
    const session = await this.#get(key);
    if (!session) return undefined;
    this.#cache.add(session, epoch);
    return this.#slide(session, now);
  }

  /** Sliding idle timeout, written through to the store (every instance sees it, a restart keeps it). */
  #slide(session: Session, now: number): Session | Promise<Session | undefined> {
    const idleExpiresAt = Math.min(now + this.#o.idleTtlMs, session.absoluteExpiresAt);
    if (idleExpiresAt - session.idleExpiresAt < this.#o.touchIntervalMs) return session;
    return this.#touch(session, idleExpiresAt);
  }

  async #touch(session: Session, idleExpiresAt: number): Promise<Session | undefined> {
    if (!(await this.#o.store.touch(session.key, idleExpiresAt))) {
      this.#cache.forget(session.key);
      return undefined;
    }
    session.idleExpiresAt = Math.max(session.idleExpiresAt, idleExpiresAt);
    return session;
  }

  needsRenewal(session: Session): boolean {
    return this.#o.now() >= this.#renewalTime(session);
  }

  /** When the BFF will renew the access token, or null when it cannot (no refresh token). */
  renewsAt(session: Session): number | null {
    return session.tokens.refreshToken ? this.#renewalTime(session) : null;
  }

  /**
   * BFF_RENEW_BEFORE_EXPIRY before expiry, but never before a quarter of the token's life has
   * passed: a margin as long as the lifetime the IdP gives (a 60 s token, renewing 90 s before)
   * would renew on every request and every /bff/user, each a refresh at the IdP.
   */
  #renewalTime(session: Session): number {
    const lifetime = session.accessTokenExpiresAt - session.accessTokenIssuedAt;
    return session.accessTokenExpiresAt - Math.min(this.#o.renewBeforeMs, lifetime * MAX_RENEW_BEFORE_SHARE);
  }

  /**
   * The session with an access token that is not about to expire, renewing it if needed. A renewal
   * that cannot be done now (the IdP away, another instance's renewal holding the lock) does not
   * cost the call a token that is still valid: it goes with that one, and the next call tries again.
   */
  withFreshAccessToken(session: Session): Session | Promise<Session> {
    if (!this.needsRenewal(session)) return session;
    return this.#renewOnce(session.key, (current) => this.needsRenewal(current)).catch((err: unknown) => {
      if ((err instanceof IdpUnavailableError || err instanceof LockTimeoutError) && this.#o.now() < session.accessTokenExpiresAt) return session;
      throw err;
    });
  }

  /** Renews now (unless a renewal of this session is already running or done since it was read). */
  async renewNow(session: Session): Promise<Session> {
    return this.#renewOnce(session.key, (current) => current.generation === session.generation);
  }

  /** Ends the session here and answers it (with its tokens, for revocation), if it existed. */
  async destroy(key: string): Promise<Session | undefined> {
    const record = await this.#o.store.destroy(key);
    return record ? this.#fromRecord(record) : undefined;
  }

  /** Joins the running renewal of this session, or starts one. */
  #renewOnce(key: string, stillNeeded: (current: Session) => boolean): Promise<Session> {
    const running = this.#inflight.get(key);
    if (running) return running;
    // Whatever the outcome, the copy in memory is outdated: the next use reads the store.
    const renewal = this.#o.store.withLock(`refresh:${key}`, () => this.#renewLocked(key, stillNeeded), this.#o.lock)
      .finally(() => {
        this.#inflight.delete(key);
        this.#cache.forget(key);
      });
    this.#inflight.set(key, renewal);
    return renewal;
  }

  async #renewLocked(key: string, stillNeeded: (current: Session) => boolean): Promise<Session> {
    // Read again under the lock, from the store and not from memory: another instance may have
    // renewed meanwhile, and its rotated refresh token is the only one still valid.
    const current = await this.#get(key);
    if (!current) throw new SessionEndedError('session gone');
    if (!stillNeeded(current)) return current;
    const ref = sessionRef(key);
    const refreshToken = current.tokens.refreshToken;
    if (!refreshToken) {
      if (this.#o.now() < current.accessTokenExpiresAt) return current;
      await this.#o.store.destroy(key);
      this.#o.audit('refresh_failure', { session: ref, sub: current.sub, reason: 'no refresh token, access token expired', ended: true });
      throw new SessionEndedError('access token expired and no refresh token');
    }
    let tokens: TokenSet;
    try {
      tokens = await this.#o.idp.refresh(refreshToken);
    } catch (err) {
      if (err instanceof GrantRevokedError) {
        await this.#o.store.destroy(key);
        this.#o.audit('refresh_failure', { session: ref, sub: current.sub, reason: `grant revoked: ${err.message}`, ended: true });
        throw new SessionEndedError('grant revoked at the IdP');
      }
      const detail = (err as Error).message;
      // Refused (the BFF's credentials or registration): not this session's fault, so it is kept.
      const refused = err instanceof IdpRefusedClientError;
      current.lastRenewal = { at: this.#o.now(), ok: false, detail: refused ? `the identity provider refused the BFF (${err.error})` : 'the identity provider did not answer' };
      await this.#o.store.update(this.#toRecord(current));
      this.#o.audit('refresh_failure', { session: ref, sub: current.sub, reason: detail, ended: false });
      throw refused ? err : new IdpUnavailableError(detail);
    }
    const claims = tokens.claims;
    if (claims && claims['sub'] !== current.sub) {
      await this.#o.store.destroy(key);
      this.#o.audit('refresh_failure', { session: ref, sub: current.sub, reason: 'refreshed ID token names another subject', ended: true });
      throw new SessionEndedError('subject changed on refresh');
    }
    const now = this.#o.now();
    const renewed: Session = {
      ...current,
      claims: claims ? visibleClaims(claims) : current.claims,
      scopes: tokens.scope ? tokens.scope.split(' ').filter(Boolean) : current.scopes,
      accessTokenIssuedAt: now,
      accessTokenExpiresAt: now + this.#accessTokenTtlMs(tokens),
      lastRenewal: { at: now, ok: true },
      generation: current.generation + 1,
      tokens: {
        accessToken: tokens.accessToken,
        // Without rotation the IdP sends no new refresh token: the old one stays valid.
        refreshToken: tokens.refreshToken ?? refreshToken,
        idToken: tokens.idToken ?? current.tokens.idToken,
      },
    };
    if (!(await this.#o.store.update(this.#toRecord(renewed)))) {
      // Signed out while the refresh ran: do not leave a live refresh token behind.
      await this.#o.idp.revokeRefreshToken(renewed.tokens.refreshToken!).catch(() => undefined);
      throw new SessionEndedError('session ended during the refresh');
    }
    this.#o.audit('refresh', { session: ref, sub: current.sub, generation: renewed.generation });
    return renewed;
  }

  #accessTokenTtlMs(tokens: TokenSet): number {
    return tokens.expiresIn !== undefined ? tokens.expiresIn * 1000 : this.#o.defaultAccessTokenTtlMs;
  }

  async #get(key: string): Promise<Session | undefined> {
    const record = await this.#o.store.get(key, this.#o.now());
    if (!record) return undefined;
    try {
      return this.#fromRecord(record);
    } catch (err) {
      // Written with a key no longer configured, or altered: unusable, so signed out.
      this.#o.audit('session_unreadable', { session: sessionRef(key), sub: record.sub, reason: (err as Error).message });
      await this.#o.store.destroy(key);
      return undefined;
    }
  }

  #toRecord(s: Session): SessionRecord {
    const payload: Payload = {
      claims: s.claims,
      scopes: s.scopes,
      accessTokenIssuedAt: s.accessTokenIssuedAt,
      accessTokenExpiresAt: s.accessTokenExpiresAt,
      lastRenewal: s.lastRenewal,
      generation: s.generation,
      tokens: this.#o.cipher.encrypt(JSON.stringify(s.tokens), s.key),
    };
    return { key: s.key, sub: s.sub, sid: s.sid, createdAt: s.createdAt, idleExpiresAt: s.idleExpiresAt, absoluteExpiresAt: s.absoluteExpiresAt, payload: JSON.stringify(payload) };
  }

  #fromRecord(r: SessionRecord): Session {
    const { tokens, ...rest } = JSON.parse(r.payload) as Payload;
    return {
      ...rest,
      key: r.key,
      sub: r.sub,
      sid: r.sid,
      createdAt: r.createdAt,
      idleExpiresAt: r.idleExpiresAt,
      absoluteExpiresAt: r.absoluteExpiresAt,
      tokens: JSON.parse(this.#o.cipher.decrypt(tokens, r.key)) as SessionTokens,
    };
  }
}

function visibleClaims(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !PROTOCOL_CLAIMS.has(name)));
}
