// The notes database on its data directory: API processes starting at once on a new directory
// (several processes behind one port, a rolling start) all open it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openAtOnce } from '../../../tests/support/open-at-once.ts';

test('processes starting at once on a new data directory all open the notes database (the busy timeout holds from the first statement)', async () => {
  const failures = await openAtOnce(join(import.meta.dirname, '..', 'src', 'notes-store.ts'),
    'new store.NotesStore(dir).close();', { rounds: 15, openers: 3 });
  assert.deepEqual(failures, []);
});
