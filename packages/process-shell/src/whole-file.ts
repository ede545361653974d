// Files an app writes whole and puts into place under their name (the API's copy of the issuer's
// keys, the BFF's development token key): written under a temporary name beside the file, fsynced,
// renamed or linked into place, then the directory fsynced. A crash at any point leaves the old
// file or the new one, whole; and once the call returns, a power cut cannot take the file back:
// without the first fsync the name can reach the disk before the data (an empty or short file after
// the cut), without the second the new name itself can be lost (the old file back, or none). A write
// that fails (disk full) removes its temporary file. docs/decisions/0064-files-written-whole-survive-a-power-cut.md
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { DATA_DIR_MODE, DATA_FILE_MODE } from './modes.ts';

/**
 * The file-system calls made, in one object so that a test can record them in order (a power cut
 * cannot be staged in a test; what reaches the disk before the call returns can be).
 */
export const wholeFileCalls = {
  mkdirSync: fs.mkdirSync,
  openSync: fs.openSync,
  writeFileSync: fs.writeFileSync,
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  linkSync: fs.linkSync,
  rmSync: fs.rmSync,
};

/** Opens `path` (a file or a directory) read-only, fsyncs it and closes it. */
function syncPath(path: string): void {
  const fd = wholeFileCalls.openSync(path, fs.constants.O_RDONLY);
  try {
    wholeFileCalls.fsyncSync(fd);
  } finally {
    wholeFileCalls.closeSync(fd);
  }
}

/** Writes `data` to a new file at `draft` (mode 0600 whatever the umask, never over an existing one) and fsyncs it. */
function writeDraft(draft: string, data: string | Uint8Array): void {
  const fd = wholeFileCalls.openSync(draft, 'wx', DATA_FILE_MODE);
  try {
    fs.fchmodSync(fd, DATA_FILE_MODE);
    wholeFileCalls.writeFileSync(fd, data);
    wholeFileCalls.fsyncSync(fd);
  } finally {
    wholeFileCalls.closeSync(fd);
  }
}

const draftName = (file: string) => `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;

/** The same calls without blocking the event loop (a server that writes while it serves). */
export const wholeFileCallsAsync = {
  mkdir: fsp.mkdir,
  open: fsp.open,
  writeFile: (handle: fsp.FileHandle, data: string | Uint8Array) => handle.writeFile(data),
  fsync: (handle: fsp.FileHandle) => handle.sync(),
  close: (handle: fsp.FileHandle) => handle.close(),
  rename: fsp.rename,
  rm: fsp.rm,
};

async function syncPathAsync(path: string): Promise<void> {
  const handle = await wholeFileCallsAsync.open(path, fs.constants.O_RDONLY);
  try {
    await wholeFileCallsAsync.fsync(handle);
  } finally {
    await wholeFileCallsAsync.close(handle);
  }
}

/**
 * Puts `data` at `file`, replacing what is there; whole and durable once the promise resolves.
 * Nothing blocks the event loop: for a server that keeps a file while it serves.
 */
export async function replaceFileWhole(file: string, data: string | Uint8Array): Promise<void> {
  const draft = draftName(file);
  try {
    const handle = await wholeFileCallsAsync.open(draft, 'wx', DATA_FILE_MODE);
    try {
      await handle.chmod(DATA_FILE_MODE);
      await wholeFileCallsAsync.writeFile(handle, data);
      await wholeFileCallsAsync.fsync(handle);
    } finally {
      await wholeFileCallsAsync.close(handle);
    }
    await wholeFileCallsAsync.rename(draft, file);
  } catch (err) {
    await wholeFileCallsAsync.rm(draft, { force: true }).catch(() => {});
    throw err;
  }
  await syncPathAsync(dirname(file));
}

/**
 * Puts `data` at `file` unless a file is there already (of processes racing on one directory, one
 * writer wins and the others read its file, never one still being written). Returns whether this
 * call made the file; either way the file is whole and durable when it returns. Synchronous: for
 * start-up.
 */
export function createFileWhole(file: string, data: string | Uint8Array): boolean {
  const draft = draftName(file);
  let created = true;
  try {
    writeDraft(draft, data);
    try {
      wholeFileCalls.linkSync(draft, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      created = false;
    }
  } finally {
    wholeFileCalls.rmSync(draft, { force: true });
  }
  // The link and the draft's removal reach the disk together; the winner's file may still be only
  // in memory when a loser returns, so every caller syncs the directory.
  syncPath(dirname(file));
  return created;
}

/**
 * The directories whose entries a call creating `dir` must fsync: the parent of `dir` and of each
 * directory above it up to `top`, the first one the call created (mkdir's answer), or `dir` itself
 * when it was there already (another process may have created it a moment ago and not synced its
 * parent yet, as a loser of createFileWhole's race returns only once the winner's name is durable).
 */
function parentsToSync(dir: string, top: string | undefined): string[] {
  const parents: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (dirname(d) === d) break;
    parents.push(dirname(d));
    if (d === (top ?? dir)) break;
  }
  return parents;
}

/**
 * Creates the data directory `dir` (and every missing directory above it) with DATA_DIR_MODE, and
 * returns once each new directory's name is on disk: every parent that gained an entry is fsynced,
 * the nearest first. Without it a power cut right after the first start can take the directory
 * back, and with it the database, the signing keys and the sessions written into it, however
 * durably each of them was written (docs/decisions/0074). Synchronous: for start-up.
 */
export function createDirectoryDurably(dir: string): void {
  const top = wholeFileCalls.mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  for (const parent of parentsToSync(dir, top)) syncPath(parent);
}

/** createDirectoryDurably without blocking the event loop (a server creating a directory while it serves). */
export async function createDirectoryDurablyAsync(dir: string): Promise<void> {
  const top = await wholeFileCallsAsync.mkdir(dir, { recursive: true, mode: DATA_DIR_MODE });
  for (const parent of parentsToSync(dir, top)) await syncPathAsync(parent);
}

/**
 * Creates the file `file` empty with DATA_FILE_MODE unless it exists (in a directory made by
 * createDirectoryDurably), and returns once its name is on disk: the directory is fsynced
 * (SQLite fsyncs the database file's content and the directory of its journal files, never the
 * directory entry of a database file someone else created).
 */
export function createEmptyFileDurably(file: string): void {
  wholeFileCalls.closeSync(wholeFileCalls.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, DATA_FILE_MODE));
  syncPath(dirname(file));
}
