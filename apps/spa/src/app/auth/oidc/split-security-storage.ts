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
  /**
   * What read() last returned and the stored texts it came from. The library reads its whole state
   * for every entry it reads or writes (dozens of times while it handles a return from the IdP):
   * while neither text has changed (this tab's writes, another tab's), the merge is not redone.
   */
  private last: { configId: string; shared: string | null; perTab: string | null; merged: string | null } | null = null;
  /** While true, writes leave the shared part as it is (holdShared). */
  private sharedHeld = false;

  /** An instance over other storages (tests). */
  static over(shared: Storage, perTab: Storage): SplitSecurityStorage {
    const storage = new SplitSecurityStorage();
    storage.shared = shared;
    storage.perTab = perTab;
    return storage;
  }

  read(configId: string): string | null {
    const stored = { configId, shared: this.shared.getItem(STORAGE_PREFIX + configId), perTab: this.perTab.getItem(STORAGE_PREFIX + configId) };
    const last = this.last;
    if (last?.configId === configId && last.shared === stored.shared && last.perTab === stored.perTab) return last.merged;
    this.last = { ...stored, merged: merge(parse(stored.shared), parse(stored.perTab)) };
    return this.last.merged;
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
    if (this.sharedHeld) {
      this.last = null;
      setIfChanged(this.perTab, STORAGE_PREFIX + configId, perTab);
      return;
    }
    const stored = { configId, shared: setIfChanged(this.shared, STORAGE_PREFIX + configId, shared), perTab: setIfChanged(this.perTab, STORAGE_PREFIX + configId, perTab) };
    this.last = { ...stored, merged: merge(stored.shared === null ? null : shared, stored.perTab === null ? null : perTab) };
  }

  /**
   * From now until releaseShared, the library's writes leave the shared part (the session) as it
   * is: after a refresh that met an outage of the IdP, the library drops the stored session,
   * which is not what the IdP said (refreshOutageInterceptor, decision 0067). Per-tab entries are
   * written as always; clear() and remove() still remove everything.
   */
  holdShared(): void {
    this.sharedHeld = true;
  }

  /** Ends holdShared; answers whether the shared part was held. */
  releaseShared(): boolean {
    const held = this.sharedHeld;
    this.sharedHeld = false;
    return held;
  }

  remove(configId: string): void {
    this.last = null;
    this.shared.removeItem(STORAGE_PREFIX + configId);
    this.perTab.removeItem(STORAGE_PREFIX + configId);
  }

  /** Removes `names` from this tab's part of `configId` (the shared session is not touched). */
  dropPerTab(configId: string, names: readonly string[]): void {
    const key = STORAGE_PREFIX + configId;
    const entries = parse(this.perTab.getItem(key));
    if (!entries || !names.some((name) => name in entries)) return;
    for (const name of names) delete entries[name];
    this.last = null;
    setIfChanged(this.perTab, key, entries);
  }

  /** Removes our entries only: the rest of the origin's storage is not ours to wipe. */
  clear(): void {
    this.last = null;
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

/** The library's state object from its two parts (the tab's entries win), null when neither is stored. */
function merge(shared: Entries | null, perTab: Entries | null): string | null {
  return !shared && !perTab ? null : JSON.stringify({ ...shared, ...perTab });
}

/**
 * Every write of the library rewrites the whole object. Skipping unchanged parts keeps a tab
 * that only touched its own flags from writing back a shared part it read a moment earlier.
 * Returns the text now stored (null: none).
 */
function setIfChanged(storage: Storage, key: string, entries: Entries): string | null {
  if (Object.keys(entries).length === 0) {
    if (storage.getItem(key) !== null) storage.removeItem(key);
    return null;
  }
  const serialized = JSON.stringify(entries);
  if (storage.getItem(key) !== serialized) storage.setItem(key, serialized);
  return serialized;
}

function ownKeys(storage: Storage): string[] {
  const keys: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i);
    if (key?.startsWith(STORAGE_PREFIX)) keys.push(key);
  }
  return keys;
}
