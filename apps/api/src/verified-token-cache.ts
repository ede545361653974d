// Verified JWTs, so a token presented again skips the signature check. An entry matches only the
// exact full token text, never outlives the token's exp, dies with its signing key (when the key
// leaves the JWKS), and the cache holds at most `maxEntries`. A size of 0 turns it off. Time-based
// claims are re-checked by the caller's clock on every hit.
//
// Hot-path details, measured: every request brings a fresh header string, so a Map keyed by the
// whole token would hash ~700 characters per lookup. The map is keyed by the signature's last
// SIGNATURE_TAIL characters instead (already unique: 192 bits of signature) and the full text is
// then compared, which is what makes a hit "the same token". Recency uses the second-chance
// (CLOCK) approximation of LRU: a hit only sets a flag, eviction skips flagged entries once.
import type { SigningKey } from './jwks.ts';
import type { Principal } from './principal.ts';

const SIGNATURE_TAIL = 32;

interface Entry {
  readonly token: string;
  readonly principal: Principal;
  readonly key: SigningKey;
  /** exp in milliseconds: the entry is dead from then on. */
  readonly expiresAtMs: number;
  /** nbf in milliseconds (0 when absent), re-checked in case the clock stepped back. */
  readonly notBeforeMs: number;
  /** Used since it was last considered for eviction. */
  used: boolean;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  readonly maxEntries: number;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The principal for `token` if verified before and still valid at `nowMs`; else undefined. */
  get(token: string, nowMs: number, toleranceMs: number): Principal | undefined {
    if (this.maxEntries === 0) return undefined;
    const slot = token.slice(-SIGNATURE_TAIL);
    const entry = this.entries.get(slot);
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.key.retired || nowMs >= entry.expiresAtMs || nowMs + toleranceMs < entry.notBeforeMs) {
      this.entries.delete(slot);
      return undefined;
    }
    entry.used = true;
    return entry.principal;
  }

  set(token: string, principal: Principal, key: SigningKey, notBeforeMs: number): void {
    if (this.maxEntries === 0) return;
    const slot = token.slice(-SIGNATURE_TAIL);
    if (!this.entries.has(slot)) this.makeRoom();
    this.entries.set(slot, { token, principal, key, expiresAtMs: principal.expiresAt * 1000, notBeforeMs, used: false });
  }

  private makeRoom(): void {
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.entries().next();
      if (oldest.done) return;
      const [slot, entry] = oldest.value;
      this.entries.delete(slot);
      if (entry.used && !entry.key.retired) {
        // Second chance: recently used entries go to the back once.
        entry.used = false;
        this.entries.set(slot, entry);
      }
    }
  }

  /** Drops every entry verified with a key that has left the JWKS. */
  dropRetired(): number {
    let dropped = 0;
    for (const [slot, entry] of this.entries) {
      if (entry.key.retired) {
        this.entries.delete(slot);
        dropped++;
      }
    }
    return dropped;
  }
}
