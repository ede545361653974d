// The notes database on its data directory: API processes starting at once on a new directory
// (several processes behind one port, a rolling start) all open it; a damaged file is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirError } from '@suite/process-shell';
import { NOTES_SCHEMA_VERSION, NotesStore } from '../src/notes-store.ts';
import { damageSqliteFile } from '../../../tests/support/damaged-sqlite.ts';
import { openAtOnce } from '../../../tests/support/open-at-once.ts';
import { FILE_GONE } from '../../../tests/support/database-file-gone.ts';
import { schemaOf, writeNewerDatabase, writeOlderDatabase } from '../../../tests/support/schema-version.ts';
import { bearer, startApi } from './support/api.ts';
import { startTestIssuer } from './support/test-issuer.ts';

test('processes starting at once on a new data directory all open the notes database (the busy timeout holds from the first statement)', async () => {
  const failures = await openAtOnce(join(import.meta.dirname, '..', 'src', 'notes-store.ts'),
    'new store.NotesStore(dir).close();', { rounds: 15, openers: 3 });
  assert.deepEqual(failures, []);
});

test('a damaged notes database stops the start with its path and what to do', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-damaged-'));
  try {
    const store = new NotesStore(dir);
    for (let i = 0; i < 200; i++) store.create(`owner-${i}`, 'x'.repeat(1000));
    store.close();
    damageSqliteFile(join(dir, 'notes.sqlite'));
    assert.throws(() => new NotesStore(dir), (err: Error) => err instanceof DataDirError
      && err.message.startsWith(`cannot open the notes database in API_DATA_DIR: ${dir}: the database file ${join(dir, 'notes.sqlite')} is corrupted (`)
      && err.message.endsWith('); restore it from a backup, or move it away to start with an empty one'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the notes database deleted or replaced under the running API: a note written or deleted is refused 503 with Retry-After, never acknowledged and lost', async () => {
  const idp = await startTestIssuer();
  try {
    const alice = await idp.sign();
    for (const [how, remove, said] of FILE_GONE) {
      const api = await startApi(idp);
      try {
        const post = () => api.app.inject({ method: 'POST', url: '/api/notes', headers: bearer(alice), payload: { text: 'kept?' } });
        const first = await post();
        assert.equal(first.statusCode, 201, how);
        remove(join(api.dataDir, 'notes.sqlite'));
        for (const [what, res] of [
          ['POST', await post()],
          ['DELETE', await api.app.inject({ method: 'DELETE', url: `/api/notes/${first.json().id}`, headers: bearer(alice) })],
        ] as const) {
          assert.equal(res.statusCode, 503, `${how}: ${what} ${res.body}`);
          assert.equal(res.headers['retry-after'], '5', `${how}: ${what}`);
          assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
        }
        assert.throws(() => api.store.create('alice', 'x'), (err: Error) => said.test(err.message), how);
      } finally {
        await api.dispose();
      }
    }
  } finally {
    await idp.close();
  }
});

test('a notes database of another schema version: a newer one stops the start untouched, naming both versions; an older one is opened and stamped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-schema-'));
  const file = join(dir, 'notes.sqlite');
  try {
    writeNewerDatabase(file, NOTES_SCHEMA_VERSION + 1);
    assert.throws(() => new NotesStore(dir), (err: Error) => err instanceof DataDirError
      && err.message === `cannot open the notes database in API_DATA_DIR: ${dir}: the database file ${file} has schema version ${NOTES_SCHEMA_VERSION + 1}, written by a newer version of this app (this one knows up to ${NOTES_SCHEMA_VERSION}); run that version, or restore a backup made before the upgrade`);
    assert.deepEqual(schemaOf(file), { version: NOTES_SCHEMA_VERSION + 1, tables: ['from_the_future'], columns: [] }, 'nothing read into it, nothing written');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);

    // Before the stamp: the same table, unstamped, with a note in it.
    writeOlderDatabase(file, `CREATE TABLE notes (id TEXT PRIMARY KEY, owner TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;
      INSERT INTO notes VALUES ('n1', 'alice', 'kept', '2026-01-01T00:00:00.000Z')`);
    const store = new NotesStore(dir);
    assert.deepEqual(store.list('alice').map((n) => n.text), ['kept']);
    store.close();
    assert.equal(schemaOf(file).version, NOTES_SCHEMA_VERSION);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
