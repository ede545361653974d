// Per-user notes in SQLite (node:sqlite). Every statement is scoped by owner: there is no query
// that reads or deletes a note without naming whose it is.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { openedDatabaseFile, openInDataDir, openSchemaVersion, ownerOnlyDatabaseFile, refuseWriteIfGone, sqliteIntegrityProblem, type OpenedDatabaseFile } from '@suite/process-shell';
import { SQLITE_SYNCHRONOUS } from './defaults.ts';

const NOTES_FILE = 'notes.sqlite';
/**
 * The schema's version (user_version): raised with every change to the table or what it means. A
 * file of a higher version is refused, an older one upgraded (version 0: files from before the stamp).
 */
export const NOTES_SCHEMA_VERSION = 1;

/** How long a statement waits for another process's write on the file before failing "database busy". */
const NOTES_BUSY_TIMEOUT_MS = 5000;

export interface Note {
  id: string;
  text: string;
  createdAt: string;
}

interface NoteRow {
  id: string;
  text: string;
  created_at: string;
}

export class NotesStore {
  private readonly db: DatabaseSync;
  private readonly listStmt: StatementSync;
  private readonly countStmt: StatementSync;
  private readonly insertStmt: StatementSync;
  private readonly deleteStmt: StatementSync;
  /** The file opened: a note written after it was deleted or replaced would be lost at the next restart, so it is refused (503). */
  private readonly opened: OpenedDatabaseFile;

  /**
   * Opens (creating if needed) `notes.sqlite` in `dataDir`; a DataDirError names the variable and
   * the cause. `synchronous`: NORMAL survives a killed process, FULL also a power cut (API_SQLITE_SYNCHRONOUS).
   */
  constructor(dataDir: string, synchronous: 'NORMAL' | 'FULL' = SQLITE_SYNCHRONOUS.development) {
    this.db = openInDataDir('the notes database', 'API_DATA_DIR', dataDir, () => openNotesDatabase(dataDir, synchronous));
    this.opened = openedDatabaseFile(join(dataDir, NOTES_FILE));
    this.listStmt = this.db.prepare('SELECT id, text, created_at FROM notes WHERE owner = ? ORDER BY created_at, id');
    this.countStmt = this.db.prepare('SELECT count(*) AS n FROM notes WHERE owner = ?');
    this.insertStmt = this.db.prepare('INSERT INTO notes (id, owner, text, created_at) VALUES (?, ?, ?, ?)');
    this.deleteStmt = this.db.prepare('DELETE FROM notes WHERE id = ? AND owner = ?');
  }

  list(owner: string): Note[] {
    return (this.listStmt.all(owner) as unknown as NoteRow[]).map((r) => ({ id: r.id, text: r.text, createdAt: r.created_at }));
  }

  count(owner: string): number {
    return Number((this.countStmt.get(owner) as { n: number }).n);
  }

  create(owner: string, text: string): Note {
    refuseWriteIfGone(this.opened);
    const note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
    this.insertStmt.run(note.id, owner, note.text, note.createdAt);
    return note;
  }

  /** True when the note existed and belonged to `owner`. */
  delete(owner: string, id: string): boolean {
    refuseWriteIfGone(this.opened);
    return Number(this.deleteStmt.run(id, owner).changes) === 1;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function openNotesDatabase(dataDir: string, synchronous: 'NORMAL' | 'FULL'): DatabaseSync {
  const file = join(dataDir, NOTES_FILE);
  // The users' notes: readable by this user only.
  ownerOnlyDatabaseFile(file);
  // The busy timeout from the first statement on: switching a new file to WAL locks it, and
  // processes starting at once on one directory would otherwise fail with "database busy".
  const db = new DatabaseSync(file, { timeout: NOTES_BUSY_TIMEOUT_MS });
  try {
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${synchronous};`);
    const damaged = sqliteIntegrityProblem(db, file);
    if (damaged) throw new Error(damaged);
    openSchemaVersion(db, file, NOTES_SCHEMA_VERSION, () => db.exec(`
      CREATE TABLE IF NOT EXISTS notes (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS notes_by_owner ON notes (owner, created_at);
    `));
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
