// Why an app's data directory (and the SQLite file in it) cannot be used, said the same way by
// every app at start-up and, for the IdP, at run time: the path and the file system's own cause
// (read-only, permission denied, not a directory, disk full) rather than SQLite's "unable to open".
import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** SQLite result codes that mean "cannot serve now" rather than a bug (busy, locked, read-only, I/O, full, cannot open). */
export const SQLITE_UNAVAILABLE = new Map([[5, 'database busy'], [6, 'database locked'], [8, 'read-only'], [10, 'I/O error'], [13, 'disk full'], [14, 'cannot open the database file']]);

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
