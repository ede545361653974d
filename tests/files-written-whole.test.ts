// Every file an app writes whole and puts into place under its name (the API's copy of the
// issuer's keys, the BFF's development token key) survives a power cut once written (decision
// 0064): its data is fsynced before its name points at it, and the directory is fsynced after, so
// the cut can leave neither an empty file under the name nor the old file (or none) back. A power
// cut cannot be staged here; the file-system calls each app makes, in order, can be recorded.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, beforeEach, mock, test } from 'node:test';
import { createDirectoryDurably, createFileWhole, wholeFileCalls, wholeFileCallsAsync } from '@suite/process-shell';
import { IssuerKeyCache } from '../apps/api/src/issuer-key-cache.ts';
import { NotesStore } from '../apps/api/src/notes-store.ts';
import { openSqliteSessionStore } from '../apps/bff/src/sessions/sqlite-session-store.ts';
import { DEV_KEY_FILE, loadTokenKeys } from '../apps/bff/src/token-cipher.ts';
import { openSqliteStore, sqliteStoreFile } from '../apps/idp/src/storage/sqlite-store.ts';

const scratch = mkdtempSync(join(tmpdir(), 'files-written-whole-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The calls made, as "name path" (the path a file descriptor or handle was opened on). */
let calls: string[] = [];
beforeEach(() => {
  calls = [];
  mock.restoreAll();
  const opened = new Map<unknown, string>();
  const record = (name: string, target: unknown) => calls.push(`${name} ${typeof target === 'string' ? target : opened.get(target) ?? '?'}`);
  const mkdirSync = wholeFileCalls.mkdirSync as (...a: unknown[]) => string | undefined;
  mock.method(wholeFileCalls, 'mkdirSync', (path: string, ...rest: unknown[]) => {
    const made = mkdirSync(path, ...rest);
    record('mkdir', path);
    return made;
  });
  const mkdirAsync = wholeFileCallsAsync.mkdir as (...a: unknown[]) => Promise<string | undefined>;
  mock.method(wholeFileCallsAsync, 'mkdir', async (path: string, ...rest: unknown[]) => {
    const made = await mkdirAsync(path, ...rest);
    record('mkdir', path);
    return made;
  });
  const openSync = wholeFileCalls.openSync as (...a: unknown[]) => number;
  mock.method(wholeFileCalls, 'openSync', (path: string, ...rest: unknown[]) => {
    const fd = openSync(path, ...rest);
    opened.set(fd, path);
    record('open', path);
    return fd;
  });
  for (const name of ['writeFileSync', 'fsyncSync', 'closeSync'] as const) {
    const original = wholeFileCalls[name] as (...a: unknown[]) => unknown;
    mock.method(wholeFileCalls, name, (target: unknown, ...rest: unknown[]) => {
      record(name.replace('Sync', ''), target);
      return original(target, ...rest);
    });
  }
  for (const name of ['linkSync', 'rmSync'] as const) {
    const original = wholeFileCalls[name] as (...a: unknown[]) => unknown;
    mock.method(wholeFileCalls, name, (...args: unknown[]) => {
      record(name.replace('Sync', ''), args.length > 1 && typeof args[1] === 'string' ? `${args[0]} -> ${args[1]}` : args[0]);
      return original(...args);
    });
  }
  const openAsync = wholeFileCallsAsync.open;
  mock.method(wholeFileCallsAsync, 'open', async (path: string, ...rest: unknown[]) => {
    const handle = await (openAsync as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
    opened.set(handle, path);
    record('open', path);
    return handle;
  });
  for (const name of ['writeFile', 'fsync', 'close'] as const) {
    const original = wholeFileCallsAsync[name] as (...a: unknown[]) => Promise<unknown>;
    mock.method(wholeFileCallsAsync, name, (target: unknown, ...rest: unknown[]) => {
      record(name, target);
      return original(target, ...rest);
    });
  }
  for (const name of ['rename', 'rm'] as const) {
    const original = wholeFileCallsAsync[name] as (...a: unknown[]) => Promise<unknown>;
    mock.method(wholeFileCallsAsync, name, (...args: unknown[]) => {
      record(name === 'rename' ? 'link' : name, name === 'rename' ? `${args[0]} -> ${args[1]}` : args[0]);
      return original(...args);
    });
  }
});

/**
 * Asserts the order that makes the file durable: the draft written, fsynced and closed before its
 * name is put in place, the directory opened and fsynced after. (A rename is recorded as a link:
 * both put the draft's data under the file's name.)
 */
function assertDurableWrite(file: string, dir: string): void {
  const placed = calls.findIndex((c) => c.startsWith('link ') && c.endsWith(` -> ${file}`));
  assert.ok(placed >= 0, `the file is put into place: ${calls.join(', ')}`);
  const draft = calls[placed]!.slice('link '.length, calls[placed]!.indexOf(' -> '));
  const before = calls.slice(0, placed);
  assert.deepEqual(before.filter((c) => c.endsWith(` ${draft}`)), [`open ${draft}`, `writeFile ${draft}`, `fsync ${draft}`, `close ${draft}`], 'the draft is written and fsynced before it gets the name');
  const after = calls.slice(placed + 1);
  assert.deepEqual(after.filter((c) => c.endsWith(` ${dir}`)), [`open ${dir}`, `fsync ${dir}`, `close ${dir}`], 'the directory is fsynced after the name is put in place');
}

test('the API\'s copy of the issuer\'s keys: fsynced before the rename, its directory after; each rewrite alike', async () => {
  const dir = mkdtempSync(join(scratch, 'api-'));
  const file = join(dir, 'issuer-keys.json');
  const cache = new IssuerKeyCache(file, 60_000);
  for (const round of [1, 2]) {
    calls = [];
    await cache.write('http://issuer.example', { issuer: 'http://issuer.example', round }, { keys: [] });
    assertDurableWrite(file, dir);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).discovery.round, round);
  }
  assert.deepEqual(readdirSync(dir), ['issuer-keys.json'], 'no draft left');
});

test('the BFF\'s development token key: fsynced before the link, its directory after', () => {
  const dir = mkdtempSync(join(scratch, 'bff-'));
  const file = join(dir, DEV_KEY_FILE);
  const made = loadTokenKeys('', dir, false);
  assert.equal(made.generated, true);
  assertDurableWrite(file, dir);
  assert.deepEqual(readdirSync(dir), [DEV_KEY_FILE], 'no draft left');
});

test('a process that lost the race to create a file returns only once the directory holding the winner\'s name is fsynced', () => {
  const dir = mkdtempSync(join(scratch, 'race-'));
  const file = join(dir, 'made-first');
  writeFileSync(file, 'the winner\'s\n');
  assert.equal(createFileWhole(file, 'the loser\'s\n'), false);
  assert.equal(readFileSync(file, 'utf8'), 'the winner\'s\n');
  assert.deepEqual(calls.slice(-3), [`open ${dir}`, `fsync ${dir}`, `close ${dir}`]);
  assert.deepEqual(readdirSync(dir), ['made-first'], 'no draft left');
});

// The class, kept whole: no app writes a file and renames or links it into place but through the
// helper (packages/process-shell/src/whole-file.ts). A new file kept that way must use it.
test('no app source renames or links a file into place, or writes one whole, but through the helper', () => {
  const root = join(import.meta.dirname, '..');
  const sources = ['apps/idp/src', 'apps/api/src', 'apps/bff/src', 'apps/spa/server', 'packages/process-shell/src']
    .flatMap((d) => readdirSync(join(root, d), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(d, f)));
  assert.ok(sources.length > 50, 'the sources were found');
  const offenders = sources
    .filter((f) => !f.endsWith('whole-file.ts'))
    .filter((f) => /\b(rename|renameSync|link|linkSync|writeFile|writeFileSync|copyFile|copyFileSync)\s*\(/.test(readFileSync(join(root, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

// A data directory created at first start survives a power cut (decision 0074): its name, and the
// name of every directory created above it, is fsynced into its parent before anything is written
// into it; the database file an app creates empty for SQLite is fsynced into the directory. Else
// the cut right after a first start can take back the directory entry, and with it the database,
// the signing keys, the sessions, however durably each write inside was made.

/**
 * Asserts that `dir` was created and then each parent from `dir`'s up to `existing` (the directory
 * that was there before) was opened and fsynced, in that order, before anything in `dir` was opened.
 */
function assertDirectoryDurable(dir: string, existing: string): void {
  const made = calls.indexOf(`mkdir ${dir}`);
  assert.ok(made >= 0, `the directory is made through the helper: ${calls.join(', ')}`);
  const parents: string[] = [];
  for (let d = dir; d !== existing; d = dirname(d)) parents.push(dirname(d));
  const synced = calls.slice(made + 1).filter((c) => c.startsWith('fsync '));
  assert.deepEqual(synced.slice(0, parents.length), parents.map((p) => `fsync ${p}`), 'each new name fsynced into its parent, the nearest first');
  const lastParentSync = calls.indexOf(`fsync ${existing}`, made);
  const firstInside = calls.findIndex((c) => c.includes(`${dir}/`));
  assert.ok(firstInside < 0 || lastParentSync < firstInside, `the directory is durable before anything is written into it: ${calls.join(', ')}`);
}

test('a directory made with its parents: every new name fsynced into its parent; an existing one: its own name again', () => {
  const base = mkdtempSync(join(scratch, 'dirs-'));
  const dir = join(base, 'a', 'b', 'c');
  createDirectoryDurably(dir);
  assertDirectoryDurable(dir, base);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  calls = [];
  createDirectoryDurably(dir);
  assert.deepEqual(calls, [`mkdir ${dir}`, `open ${join(base, 'a', 'b')}`, `fsync ${join(base, 'a', 'b')}`, `close ${join(base, 'a', 'b')}`], 'made a moment ago by another process: its name is made durable too');
});

test('each app\'s data directory made at first start is durable before its database or key file is written', async () => {
  const openers: Array<[string, string, (dir: string) => unknown]> = [
    ['IdP SQLite store', 'idp.sqlite', (dir) => openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 }).close()],
    ['BFF session store', 'bff.sqlite', (dir) => openSqliteSessionStore(dir).close()],
    ['BFF development token key', DEV_KEY_FILE, (dir) => loadTokenKeys('', dir, false)],
    ['API notes store', 'notes.sqlite', (dir) => new NotesStore(dir).close()],
  ];
  for (const [what, fileName, open] of openers) {
    const base = mkdtempSync(join(scratch, 'first-start-'));
    const dir = join(base, 'var', 'data');
    calls = [];
    await open(dir);
    assert.ok(existsSync(join(dir, fileName)), `${what}: ${fileName} written`);
    assertDirectoryDurable(dir, base);
    // The file's own name (created empty for SQLite, or linked into place): fsynced into the directory after.
    const created = calls.findIndex((c) => c === `open ${join(dir, fileName)}` || c.endsWith(` -> ${join(dir, fileName)}`));
    assert.ok(created >= 0, `${what}: ${calls.join(', ')}`);
    assert.ok(calls.indexOf(`fsync ${dir}`, created) > created, `${what}: the file's name fsynced into the directory: ${calls.join(', ')}`);
  }
  assert.equal(sqliteStoreFile('/x'), '/x/idp.sqlite');
});

test('the API\'s key cache directory made while it serves is durable before the file is put there', async () => {
  const base = mkdtempSync(join(scratch, 'api-cache-'));
  const dir = join(base, 'cache', 'keys');
  const file = join(dir, 'issuer-keys.json');
  await new IssuerKeyCache(file, 60_000).write('http://issuer.example', { issuer: 'http://issuer.example' }, { keys: [] });
  assertDirectoryDurable(dir, base);
  assertDurableWrite(file, dir);
});

// The class, kept whole: no app source makes a directory but through the helper.
test('no app source makes a directory but through the helper', () => {
  const root = join(import.meta.dirname, '..');
  const sources = ['apps/idp/src', 'apps/api/src', 'apps/bff/src', 'apps/spa/server', 'packages/process-shell/src']
    .flatMap((d) => readdirSync(join(root, d), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(d, f)));
  assert.ok(sources.length > 50, 'the sources were found');
  const offenders = sources
    .filter((f) => !f.endsWith('whole-file.ts'))
    .filter((f) => /\b(mkdir|mkdirSync|mkdtemp|mkdtempSync|cp|cpSync)\s*\(/.test(readFileSync(join(root, f), 'utf8')));
  assert.deepEqual(offenders, []);
});
