// The two ways a database file goes from under a running process: deleted (rm, with its WAL and
// shared-memory files), or replaced (another file moved over its path, as a restore done with mv).
import { renameSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

export const FILE_GONE: Array<[string, (file: string) => void, RegExp]> = [
  ['deleted', (file) => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  }, /was deleted while open/],
  ['replaced', (file) => {
    const other = `${file}.restored`;
    const db = new DatabaseSync(other);
    db.exec('CREATE TABLE restored (x)');
    db.close();
    renameSync(other, file);
  }, /was replaced while open/],
];
