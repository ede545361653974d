// The last verified discovery document and JWKS of the issuer, kept in the API's data directory
// so that an API started while the IdP is unreachable can still validate tokens. Only what the
// API itself fetched from the configured issuer is written; a copy older than the configured
// bound, for another issuer, or unreadable is ignored.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createDirectoryDurablyAsync, replaceFileWhole } from '@suite/process-shell';

export interface CachedIssuerKeys {
  /** When it was written, ms since the epoch. */
  savedAt: number;
  discovery: Record<string, unknown>;
  jwks: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class IssuerKeyCache {
  private readonly file: string;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(file: string, maxAgeMs: number, now: () => number = Date.now) {
    this.file = file;
    this.maxAgeMs = maxAgeMs;
    this.now = now;
  }

  /** The kept copy for `issuer`, if there is one young enough. */
  read(issuer: string): CachedIssuerKeys | undefined {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      return undefined;
    }
    if (!isObject(value) || value.issuer !== issuer || typeof value.savedAt !== 'number') return undefined;
    if (!isObject(value.discovery) || !isObject(value.jwks)) return undefined;
    if (this.now() - value.savedAt > this.maxAgeMs) return undefined;
    return { savedAt: value.savedAt, discovery: value.discovery, jwks: value.jwks };
  }

  /**
   * Keeps a copy, whole and durable: written under a temporary name, fsynced, renamed into place,
   * the directory fsynced (a crash or a power cut leaves the old copy or the new one, never an
   * empty file). A write that fails (disk full, the path taken) removes its temporary file: the
   * copy is rewritten at every JWKS fetch, and each failure would otherwise leave one more behind.
   */
  async write(issuer: string, discovery: Record<string, unknown>, jwks: Record<string, unknown>): Promise<void> {
    // savedAt is when the issuer last confirmed these keys, so the copy is rewritten at every fetch.
    const text = JSON.stringify({ issuer, savedAt: this.now(), discovery: { ...discovery, issuer }, jwks }, null, 2);
    await createDirectoryDurablyAsync(dirname(this.file));
    await replaceFileWhole(this.file, text);
  }
}
