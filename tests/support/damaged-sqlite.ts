// A SQLite file damaged as a disk fault or a copy taken mid-write leaves it: its header intact (it
// still opens), pages further in overwritten with garbage.
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';

/** Overwrites every third page after the first two; the file must be closed by every connection (its WAL checkpointed). */
export function damageSqliteFile(file: string): void {
  const probe = new DatabaseSync(file, { readOnly: true });
  const pageSize = Number(probe.prepare('PRAGMA page_size').get()!['page_size']);
  probe.close();
  const pages = Math.floor(statSync(file).size / pageSize);
  if (pages < 4) throw new Error(`${file} has ${pages} pages: too few to damage any but its first`);
  const fd = openSync(file, 'r+');
  try {
    for (let page = 2; page < pages; page += 3) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, page * pageSize);
  } finally {
    closeSync(fd);
  }
}
