// Verified JWTs, so a token presented again skips the signature check. An entry matches only the
// exact full token text, never outlives the token's exp, dies with its signing key (when the key
// leaves the JWKS), and the cache holds at most `maxEntries`. A size of 0 turns it off. Time-based
// claims are re-checked by the caller's clock on every hit.
//
// Hot-path details, measured (bench/README.md, "What each API path costs"): every request brings a
// fresh header string, and with many users in rotation each hit reads an entry nobody touched for
// a while, so what a hit costs is mostly memory it has to fetch. The map is keyed by a number
// read from the signature's last characters (30 bits of signature, no string hashed or stored as
// a key); the entry then holds the full token text, compared with the request's, which is what
// makes a hit "the same token" (two tokens with the same number just share a slot). The times are
// small integers kept in the entry itself, not boxed numbers elsewhere in the heap. Recency uses
// the second-chance (CLOCK) approximation of LRU: a hit only sets a flag, eviction skips flagged
// entries once.
import type { SigningKey } from './jwks.ts';
import type { Principal } from './principal.ts';

/** base64url character → its 6 bits; anything else → 0 (such a token never matches an entry). */
const SEXTET = new Uint8Array(128);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) SEXTET[c.charCodeAt(0)] = i;

/**
 * The slot of a token: 30 bits from its 2nd to 6th last characters (the last one of a signature
 * carries as little as 2 bits). Any string has one; only the full text decides a hit.
 */
function slotOf(token: string): number {
  const n = token.length;
  return (SEXTET[token.charCodeAt(n - 2) & 127]! << 24) | (SEXTET[token.charCodeAt(n - 3) & 127]! << 18)
    | (SEXTET[token.charCodeAt(n - 4) & 127]! << 12) | (SEXTET[token.charCodeAt(n - 5) & 127]! << 6) | SEXTET[token.charCodeAt(n - 6) & 127]!;
}

/**
 * Times are kept in whole seconds from this origin (2023-11-14): small integers for any token
 * expiring before 2057, which V8 stores in the entry instead of as a separate heap number.
 */
const ORIGIN_SECONDS = 1_700_000_000;
/** The notBefore of a token without nbf: the smallest such integer, before any clock's now. */
const NO_NOT_BEFORE = -(2 ** 30);

interface Entry {
  readonly token: string;
  readonly principal: Principal;
  readonly key: SigningKey;
  /** exp, rounded down, in seconds from ORIGIN_SECONDS: the entry is dead from then on. */
  readonly expiresAt: number;
  /** nbf, rounded up, in seconds from ORIGIN_SECONDS, re-checked in case the clock stepped back. */
  readonly notBefore: number;
  /** Used since it was last considered for eviction. */
  used: boolean;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<number, Entry>();
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
    const slot = slotOf(token);
    const entry = this.entries.get(slot);
    if (entry === undefined || entry.token !== token) return undefined;
    // Rounding exp down and nbf up can only make an entry die early: the token is then verified
    // again, against its exact claims.
    const now = nowMs / 1000 - ORIGIN_SECONDS;
    if (entry.key.retired || now >= entry.expiresAt || now + toleranceMs / 1000 < entry.notBefore) {
      this.entries.delete(slot);
      return undefined;
    }
    entry.used = true;
    return entry.principal;
  }

  set(token: string, principal: Principal, key: SigningKey, notBeforeMs: number): void {
    if (this.maxEntries === 0) return;
    const slot = slotOf(token);
    if (!this.entries.has(slot)) this.makeRoom();
    this.entries.set(slot, {
      token: flatCopy(token),
      principal,
      key,
      expiresAt: Math.floor(principal.expiresAt) - ORIGIN_SECONDS,
      notBefore: notBeforeMs === 0 ? NO_NOT_BEFORE : Math.ceil(notBeforeMs / 1000) - ORIGIN_SECONDS,
      used: false,
    });
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

/**
 * The token as a string of its own: the request's token is a slice of its Authorization header,
 * and an entry holding the slice would keep that header alive and reach its text through it.
 */
function flatCopy(token: string): string {
  return Buffer.from(token, 'latin1').toString('latin1');
}
