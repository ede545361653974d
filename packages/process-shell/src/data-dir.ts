// Why an app's data directory (and the SQLite file in it) cannot be used, said the same way by
// every app at start-up and, for the IdP, at run time: the path and the file system's own cause
// (read-only, permission denied, not a directory, disk full) rather than SQLite's "unable to open".
import { accessSync, chmodSync, constants, existsSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

import { DATA_FILE_MODE } from './modes.ts';
import { createDirectoryDurably, createEmptyFileDurably } from './whole-file.ts';

export { DATA_DIR_MODE, DATA_FILE_MODE } from './modes.ts';
/** What SQLite keeps beside a database file: its -wal and -shm files take the database file's mode when SQLite creates them. */
const SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Makes the database file `file` readable and writable by its owner only before anything is
 * written to it: its directory is created with DATA_DIR_MODE when missing, durably (whole-file.ts:
 * its name fsynced into its parent, the file's into the directory), a new file
 * is created empty with DATA_FILE_MODE (SQLite takes an empty file for a new database, and gives
 * its -wal and -shm files the same mode), and an existing one, or its side files, left readable
 * to others by an earlier version or a copy are set to it.
 */
export function ownerOnlyDatabaseFile(file: string): void {
  createDirectoryDurably(dirname(file));
  createEmptyFileDurably(file);
  for (const path of [file, ...SQLITE_SIDE_FILES.map((suffix) => file + suffix)]) keepOwnerOnly(path);
}

/** Sets an existing file that others may read or write to DATA_FILE_MODE; a missing one is left missing. */
export function keepOwnerOnly(path: string): void {
  const mode = statSync(path, { throwIfNoEntry: false })?.mode;
  if (mode !== undefined && (mode & 0o777 & ~DATA_FILE_MODE) !== 0) chmodSync(path, DATA_FILE_MODE);
}

/** SQLite result codes that mean "cannot serve now" rather than a bug (busy, locked, read-only, I/O, corrupted, full, cannot open, not a database). */
export const SQLITE_UNAVAILABLE = new Map([[5, 'database busy'], [6, 'database locked'], [8, 'read-only'], [10, 'I/O error'], [11, 'database disk image is malformed'], [13, 'disk full'], [14, 'cannot open the database file'], [26, 'file is not a database']]);

/** SQLite result codes saying the file itself is damaged: it does not heal by waiting. */
export const SQLITE_CORRUPTED = new Set([11, 26]);

/** What a SQLite connection needs for the integrity check. */
interface CheckableDatabase {
  prepare(sql: string): { all(): Array<Record<string, unknown>> };
}

/**
 * Why the database file `file` open in `db` cannot be trusted (its first problem, by SQLite's
 * quick_check of every page), or undefined when it is sound. Run when a store opens: a file
 * damaged by a disk fault or a copy made while it was written is refused, not served until a
 * request meets the damage.
 */
export function sqliteIntegrityProblem(db: CheckableDatabase, file: string): string | undefined {
  let rows: Array<Record<string, unknown>>;
  try {
    rows = db.prepare('PRAGMA quick_check(1)').all();
  } catch (err) {
    rows = [{ quick_check: (err as Error).message }];
  }
  const first = String(Object.values(rows[0] ?? {})[0] ?? 'no answer').replace(/\s+/g, ' ').trim();
  if (first === 'ok') return undefined;
  return `the database file ${file} is corrupted (${first}); restore it from a backup, or move it away to start with an empty one`;
}

/** The real cause of a failure to open or write the data directory `path`, with its path. */
export function describeDataDirError(path: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException & { errcode?: number; errstr?: string };
  if (e.code === 'ERR_SQLITE_ERROR' && e.errcode !== undefined) {
    const base = SQLITE_UNAVAILABLE.get(e.errcode & 0xff);
    // SQLite says "unable to open" or "I/O error" where the file system said why: ask it.
    const fsCause = base && (e.errcode & 0xff) !== 13 ? fileSystemCause(path) : undefined;
    return `${path}: ${fsCause ?? base ?? e.message}`;
  }
  // A recursive mkdir over a file says EEXIST.
  const byErrno: Record<string, string> = { EROFS: 'read-only file system', EACCES: 'permission denied', EPERM: 'permission denied', ENOSPC: 'disk full', ENOENT: 'no such directory', ENOTDIR: 'not a directory', EEXIST: 'not a directory' };
  // A recursive mkdir on a read-only volume reports ENOENT: the nearest existing parent says why.
  const parentCause = e.code === 'ENOENT' ? fileSystemCause(nearestExisting(path)) : undefined;
  return `${path}: ${parentCause ?? (e.code && byErrno[e.code]) ?? e.message}`;
}

/**
 * The database file a connection opened, by device and inode: a file deleted, moved or replaced
 * under a running process (an operator's rm or mv, a restore copied over it, a volume remounted)
 * leaves the connection writing to a file nobody will open again, and everything written from then
 * on is gone at the next restart.
 */
export interface OpenedDatabaseFile {
  readonly file: string;
  readonly dev: number;
  readonly ino: number;
}

export function openedDatabaseFile(file: string): OpenedDatabaseFile {
  const { dev, ino } = statSync(file);
  return { file, dev, ino };
}

/** A write refused because the database file open is no longer the one at its path; answered 503. */
export class DatabaseFileGoneError extends Error {
  readonly statusCode = 503;
}

/**
 * Why the file open is no longer the one at its path (deleted or replaced), or undefined while it
 * is. A path that cannot be looked at for another reason (permission) is left to SQLite to report.
 */
export function databaseFileGone(opened: OpenedDatabaseFile): string | undefined {
  let now;
  try {
    now = statSync(opened.file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') return undefined;
    return `the database file ${opened.file} was deleted while open: nothing more is written, since it would be lost at the next restart; restore the file and restart, or restart to begin with an empty one`;
  }
  if (now.ino === opened.ino && now.dev === opened.dev) return undefined;
  return `the database file ${opened.file} was replaced while open: nothing more is written to the file this process holds, since it would be lost at the next restart; restart to open the file now at that path`;
}

/** Throws DatabaseFileGoneError when the file open is no longer the one at its path: call before every write. */
export function refuseWriteIfGone(opened: OpenedDatabaseFile): void {
  const gone = databaseFileGone(opened);
  if (gone) throw new DatabaseFileGoneError(gone);
}

/**
 * Whether an error of a SQLite store means "cannot serve now" (disk full, read-only, busy, damaged,
 * the file gone) rather than a bug: answered 503 with Retry-After, never 500.
 */
export function isSqliteOutage(err: unknown): boolean {
  if (err instanceof DatabaseFileGoneError) return true;
  const e = err as { code?: string; errcode?: number };
  return e?.code === 'ERR_SQLITE_ERROR' && e.errcode !== undefined && SQLITE_UNAVAILABLE.has(e.errcode & 0xff);
}

/** What a schema check needs of a SQLite connection. */
interface VersionedDatabase {
  prepare(sql: string): { get(): Record<string, unknown> | undefined };
  exec(sql: string): void;
}

/**
 * Opens a store's schema at `version` (SQLite's user_version): a file written by a newer version
 * (a higher number: tables or meanings this code does not know) is refused before anything is
 * read or written, naming both versions; an older or new file is brought up by `upgrade` (each
 * store's idempotent CREATE and ALTER statements) and stamped. Files from before the stamp read 0.
 */
export function openSchemaVersion(db: VersionedDatabase, file: string, version: number, upgrade: () => void): void {
  const found = Number(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0);
  if (found > version) {
    throw new Error(`the database file ${file} has schema version ${found}, written by a newer version of this app (this one knows up to ${version}); run that version, or restore a backup made before the upgrade`);
  }
  upgrade();
  if (found < version) db.exec(`PRAGMA user_version = ${version}`);
}

/** A start-up failure of a data directory: the message names the variable and the cause, no stack. */
export class DataDirError extends Error {}

/** Runs `open` (mkdir, opening the database, its schema); any failure becomes a DataDirError saying what, where and why. */
export function openInDataDir<T>(what: string, variable: string, dir: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    throw new DataDirError(`cannot open ${what} in ${variable}: ${describeDataDirError(dir, err)}`, { cause: err });
  }
}

function nearestExisting(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function fileSystemCause(path: string): string | undefined {
  try {
    accessSync(path, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EROFS' ? 'read-only file system' : code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : 'not writable (permission denied)';
  }
  try {
    const fs = statfsSync(path);
    if (fs.bavail * fs.bsize < 64 * 1024) return 'disk full';
  } catch {
    // statfs unavailable: nothing more to say
  }
  return undefined;
}
