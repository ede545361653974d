// Database files of another schema version than the code's: one written by a newer version (a
// higher user_version, with a table this code does not know), and one from before the stamp
// (user_version 0) in an older layout.
import { DatabaseSync } from 'node:sqlite';

/** Writes `file` as a newer version would: user_version `version`, a table of its own. */
export function writeNewerDatabase(file: string, version: number): void {
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA journal_mode = WAL; CREATE TABLE from_the_future (x); PRAGMA user_version = ${version}`);
  db.close();
}

/** Writes `file` in an older layout (`ddl`), unstamped. */
export function writeOlderDatabase(file: string, ddl: string): void {
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA journal_mode = WAL; ${ddl}`);
  db.close();
}

/** The user_version, the tables and the columns of `table` in `file`, read without changing it. */
export function schemaOf(file: string, table?: string): { version: number; tables: string[]; columns: string[] } {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return {
      version: Number(db.prepare('PRAGMA user_version').get()!['user_version']),
      tables: db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all().map((r) => String(r['name'])),
      columns: table ? db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all().map((r) => String(r['name'])) : [],
    };
  } finally {
    db.close();
  }
}
