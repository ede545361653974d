// Every file an app keeps in its data directory is readable by its owner only (decision 0061):
// the IdP's database (private signing keys, cookie keys, refresh tokens), the BFF's (pending
// logins' PKCE verifiers, sessions) and its development token key, the API's notes and its copy
// of the issuer's keys, SQLite's -wal and -shm files included; a directory an app creates is its
// owner's only too. Each store is opened as its app opens it: on a new directory, and on one that
// an earlier version left readable to everyone (directory 0755, files 0644), whose files it tightens.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { IssuerKeyCache } from '../apps/api/src/issuer-key-cache.ts';
import { NotesStore } from '../apps/api/src/notes-store.ts';
import { openSqliteSessionStore } from '../apps/bff/src/sessions/sqlite-session-store.ts';
import { loadTokenKeys } from '../apps/bff/src/token-cipher.ts';
import { openSqliteStore } from '../apps/idp/src/storage/sqlite-store.ts';

const scratch = mkdtempSync(join(tmpdir(), 'data-dir-modes-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

/** Each app's stores, opened and written as the app does, then closed. */
const apps: Array<{ name: string; files: string[]; open(dir: string): Promise<void> }> = [
  {
    name: 'IdP',
    files: ['idp.sqlite'],
    async open(dir) {
      const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
      await store.upsert('Session', 'a-session', { accountId: 'alice' }, 60);
      await store.close();
    },
  },
  {
    name: 'BFF',
    files: ['bff.sqlite', 'token-key'],
    async open(dir) {
      loadTokenKeys('', dir, false);
      const store = openSqliteSessionStore(dir);
      await store.close();
    },
  },
  {
    name: 'API',
    files: ['notes.sqlite', 'issuer-keys.json'],
    async open(dir) {
      const notes = new NotesStore(dir);
      notes.close();
      await new IssuerKeyCache(join(dir, 'issuer-keys.json'), 60_000).write('http://localhost:4400', {}, { keys: [] });
    },
  },
];

/** Every file in `dir` with its mode, and the directory's own. */
function modes(dir: string): Record<string, string> {
  return Object.fromEntries([['.', mode(dir)], ...readdirSync(dir).map((f) => [f, mode(join(dir, f))])]);
}

for (const app of apps) {
  test(`${app.name}: a new data directory and every file in it are the owner's only`, async () => {
    const dir = join(scratch, `${app.name}-new`, 'data');
    await app.open(dir);
    const found = modes(dir);
    for (const file of app.files) assert.ok(found[file], `${file} was written: ${JSON.stringify(found)}`);
    assert.deepEqual(Object.entries(found).filter(([name, m]) => m !== (name === '.' ? '700' : '600')), [], JSON.stringify(found));
  });

  test(`${app.name}: files an earlier version left readable to everyone are made the owner's only`, async () => {
    const dir = join(scratch, `${app.name}-existing`);
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    await app.open(dir);
    // SQLite's side files as a killed process leaves them (a closed database removes them).
    for (const db of app.files.filter((f) => f.endsWith('.sqlite'))) {
      for (const side of ['-wal', '-shm']) writeFileSync(join(dir, db + side), '', { flag: 'a' });
    }
    for (const file of readdirSync(dir)) chmodSync(join(dir, file), 0o644);
    await app.open(dir);
    const found = modes(dir);
    assert.equal(found['.'], '755', 'a directory that exists keeps its mode');
    assert.deepEqual(Object.entries(found).filter(([name, m]) => name !== '.' && m !== '600'), [], JSON.stringify(found));
  });
}
