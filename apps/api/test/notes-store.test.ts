// The notes database on its data directory: API processes starting at once on a new directory
// (several processes behind one port, a rolling start) all open it; a damaged file is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirError } from '@suite/process-shell';
import { NotesStore } from '../src/notes-store.ts';
import { damageSqliteFile } from '../../../tests/support/damaged-sqlite.ts';
import { openAtOnce } from '../../../tests/support/open-at-once.ts';

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
