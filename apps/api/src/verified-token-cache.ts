// Verified JWTs by their full text, so a token presented again skips the signature check. An
// entry never outlives the token's exp, dies with its signing key (when the key leaves the JWKS),
// and the cache holds at most `maxEntries` (least recently used goes first). A size of 0 turns it
// off. Time-based claims are re-checked by the caller's clock on every hit.
import type { SigningKey } from './jwks.ts';
import type { Principal } from './principal.ts';

interface Entry {
  readonly principal: Principal;
  readonly key: SigningKey;
  /** exp in milliseconds: the entry is dead from then on. */
  readonly expiresAtMs: number;
  /** nbf in milliseconds (0 when absent), re-checked in case the clock stepped back. */
  readonly notBeforeMs: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  readonly maxEntries: number;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The principal for `token` if verified before and still valid at `nowMs`; else undefined. */
  get(token: string, nowMs: number, toleranceMs: number): Principal | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.key.retired || nowMs >= entry.expiresAtMs || nowMs + toleranceMs < entry.notBeforeMs) {
      this.entries.delete(token);
      return undefined;
    }
    // Most recently used moves to the end; eviction takes from the front.
    this.entries.delete(token);
    this.entries.set(token, entry);
    return entry.principal;
  }

  set(token: string, principal: Principal, key: SigningKey, notBeforeMs: number): void {
    if (this.maxEntries === 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(token)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { principal, key, expiresAtMs: principal.expiresAt * 1000, notBeforeMs });
  }

  /** Drops every entry verified with a key that has left the JWKS. */
  dropRetired(): number {
    let dropped = 0;
    for (const [token, entry] of this.entries) {
      if (entry.key.retired) {
        this.entries.delete(token);
        dropped++;
      }
    }
    return dropped;
  }

  clear(): void {
    this.entries.clear();
  }
}
