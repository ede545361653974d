import { Injectable } from '@angular/core';
import type { AbstractSecurityStorage } from 'angular-auth-oidc-client';
import { PER_TAB_ENTRIES } from './library-internals';

/** Prefix of our entries in localStorage and sessionStorage. */
export const STORAGE_PREFIX = 'spa.auth.';

type Entries = Record<string, unknown>;

/**
 * The library keeps all its state as one JSON object per configuration. This storage splits that
 * object: the session (tokens, their expiry, user data, discovery document) goes to localStorage,
 * shared by every tab of the origin, so there is exactly one refresh token per browser and a
 * duplicated tab never holds a private copy to race with; per-tab flow state goes to
 * sessionStorage. Refreshes are serialised across tabs by `useRefreshTokenLock` (Web Locks).
 * See docs/decisions/0002-spa-token-storage.md.
 */
@Injectable({ providedIn: 'root' })
export class SplitSecurityStorage implements AbstractSecurityStorage {
  private shared: Storage = localStorage;
  private perTab: Storage = sessionStorage;

  /** An instance over other storages (tests). */
  static over(shared: Storage, perTab: Storage): SplitSecurityStorage {
    const storage = new SplitSecurityStorage();
    storage.shared = shared;
    storage.perTab = perTab;
    return storage;
  }

  read(configId: string): string | null {
    const shared = parse(this.shared.getItem(STORAGE_PREFIX + configId));
    const perTab = parse(this.perTab.getItem(STORAGE_PREFIX + configId));
    if (!shared && !perTab) return null;
    return JSON.stringify({ ...shared, ...perTab });
  }

  write(configId: string, value: string): void {
    const entries = parse(value) ?? {};
    const shared: Entries = {};
    const perTab: Entries = {};
    for (const [name, entry] of Object.entries(entries)) {
      // The library resets a flag by writing '' (storageSilentRenewRunning, after a renewal or when
      // its subscription is torn down, which can be after a logout has cleared everything); it
      // reads '' and absent alike. Stored as absent, a reset leaves nothing behind in the storage.
      if (entry === '') continue;
      (PER_TAB_ENTRIES.has(name) ? perTab : shared)[name] = entry;
    }
    setIfChanged(this.shared, STORAGE_PREFIX + configId, shared);
    setIfChanged(this.perTab, STORAGE_PREFIX + configId, perTab);
  }

  remove(configId: string): void {
    this.shared.removeItem(STORAGE_PREFIX + configId);
    this.perTab.removeItem(STORAGE_PREFIX + configId);
  }

  /** Removes our entries only: the rest of the origin's storage is not ours to wipe. */
  clear(): void {
    for (const storage of [this.shared, this.perTab]) {
      for (const key of ownKeys(storage)) storage.removeItem(key);
    }
  }

  /** The shared (session) part for `configId`, as another tab wrote it. */
  readShared(configId: string): Entries | null {
    return parse(this.shared.getItem(STORAGE_PREFIX + configId));
  }

  /** Whether anything of `configId` is stored: a session, or a login this tab started. */
  hasEntries(configId: string): boolean {
    return this.shared.getItem(STORAGE_PREFIX + configId) !== null || this.perTab.getItem(STORAGE_PREFIX + configId) !== null;
  }

  /** Whether a StorageEvent concerns our shared entries. */
  isOwnKey(key: string | null): boolean {
    return key === null || key.startsWith(STORAGE_PREFIX);
  }
}

function parse(raw: string | null): Entries | null {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null ? (value as Entries) : null;
  } catch {
    return null;
  }
}

/**
 * Every write of the library rewrites the whole object. Skipping unchanged parts keeps a tab
 * that only touched its own flags from writing back a shared part it read a moment earlier.
 */
function setIfChanged(storage: Storage, key: string, entries: Entries): void {
  if (Object.keys(entries).length === 0) {
    if (storage.getItem(key) !== null) storage.removeItem(key);
    return;
  }
  const serialized = JSON.stringify(entries);
  if (storage.getItem(key) !== serialized) storage.setItem(key, serialized);
}

function ownKeys(storage: Storage): string[] {
  const keys: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key?.startsWith(STORAGE_PREFIX)) keys.push(key);
  }
  return keys;
}
