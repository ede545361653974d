// The SQLite store's refresh lock between processes on one file (two store objects, two
// connections, as two BFF processes have; a real child process for the holder killed with
// SIGKILL): one holder at a time, LockTimeoutError after the wait, released only by its holder, a
// dead holder's lock taken over after its time-to-live (a manual clock: nothing here sleeps to
// see that something did not happen), and a write that waits for another process's write
// transaction instead of failing with SQLITE_BUSY.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../tests/support/manual-clock.ts';
import { LockTimeoutError, type SessionStore } from '../src/sessions/session-store.ts';
import { openSqliteSessionStore, SQLITE_FILE } from '../src/sessions/sqlite-session-store.ts';

const STORE_MODULE = pathToFileURL(join(import.meta.dirname, '..', 'src', 'sessions', 'sqlite-session-store.ts')).href;
const TTL = 15_000;

/** A promise with its resolver outside, for a lock holder that holds until the test lets go. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  return { opened, open };
}

/**
 * Lets a lock attempt just made start: it reads its deadline and makes its first try within
 * microtasks, then waits on a timer, so the clock can be moved after this.
 */
const started = () => new Promise((resolve) => setImmediate(resolve));

/** Takes `name` on `store` and holds it until `release` is called; resolves `held` once inside. */
function holdLock(store: SessionStore, name: string, options = { ttlMs: TTL, waitMs: 60_000 }) {
  const inside = gate();
  const release = gate();
  const done = store.withLock(name, async () => {
    inside.open();
    await release.opened;
    return 'held';
  }, options);
  return { held: inside.opened, release: release.open, done };
}

describe('the SQLite refresh lock across processes on one file', { timeout: 60_000 }, () => {
  const clock = new ManualClock();
  const now = () => clock.now();
  let dir: string;
  let one: SessionStore;
  let two: SessionStore;
  let three: SessionStore;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bff-lock-'));
    [one, two, three] = [openSqliteSessionStore(dir, now), openSqliteSessionStore(dir, now), openSqliteSessionStore(dir, now)];
  });
  after(async () => {
    for (const store of [one, two, three]) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a second process out while the first holds the lock (LockTimeoutError after waitMs), and lets it in once released', async () => {
    const first = holdLock(one, 'refresh:a');
    await first.held;
    const waiter = two.withLock('refresh:a', async () => 'got in', { ttlMs: TTL, waitMs: 1000 });
    await started();
    clock.advance(1000);
    await assert.rejects(waiter, LockTimeoutError);
    first.release();
    assert.equal(await first.done, 'held');
    assert.equal(await two.withLock('refresh:a', async () => 'got in', { ttlMs: TTL, waitMs: 1000 }), 'got in');
  });

  it('runs parallel holders on three connections one at a time, each after the previous released', async () => {
    let inside = 0;
    let most = 0;
    let runs = 0;
    const stores = [one, two, three];
    const holders = Array.from({ length: 12 }, (_, i) => stores[i % 3]!.withLock('refresh:b', async () => {
      inside++;
      most = Math.max(most, inside);
      // Give the others every chance to get in: several turns of the event loop and a real write.
      for (let turn = 0; turn < 3; turn++) await new Promise((r) => setImmediate(r));
      await stores[i % 3]!.firstUse(`turn-${i}`, clock.now() + 60_000);
      runs++;
      inside--;
    }, { ttlMs: TTL, waitMs: 60_000 }));
    await Promise.all(holders);
    assert.equal(runs, 12);
    assert.equal(most, 1, 'two holders were inside at once');
  });

  it('is released only by its holder: a holder whose lock expired and was taken over does not free the new holder\'s', async () => {
    const late = holdLock(one, 'refresh:c', { ttlMs: 1000, waitMs: 1000 });
    await late.held;
    const successor = holdLock(two, 'refresh:c');
    await started();
    clock.advance(1000);
    await successor.held;
    late.release();
    await late.done;
    // The late holder's release ran: the successor must still hold the lock.
    const third = three.withLock('refresh:c', async () => 'got in', { ttlMs: TTL, waitMs: 500 });
    await started();
    clock.advance(500);
    await assert.rejects(third, LockTimeoutError);
    successor.release();
    await successor.done;
    assert.equal(await three.withLock('refresh:c', async () => 'got in', { ttlMs: TTL, waitMs: 500 }), 'got in');
  });

  it('frees the lock of a process killed (SIGKILL) while holding it after its time-to-live, not before', async () => {
    // The holder is a real process on the same file, on the real clock (this test's starts there too).
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `
      import { openSqliteSessionStore } from ${JSON.stringify(STORE_MODULE)};
      const store = openSqliteSessionStore(${JSON.stringify(dir)});
      store.withLock('refresh:dead', () => { console.log('held'); return new Promise(() => {}); }, { ttlMs: ${TTL}, waitMs: 10000 });
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('held')) resolve(); });
      holder.once('exit', (code) => reject(new Error(`the holder exited with ${code} before taking the lock`)));
    });
    const killed = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await killed;
    // Its lock is still there, as it wrote it; the clock goes back to when it was taken.
    const raw = new DatabaseSync(join(dir, SQLITE_FILE), { readOnly: true });
    const row = raw.prepare('SELECT expires_at FROM lock WHERE name = ?').get('refresh:dead');
    raw.close();
    assert.ok(row, 'the killed holder left its lock');
    const expiresAt = Number(row['expires_at']);
    clock.advance(expiresAt - TTL - clock.now());
    const early = one.withLock('refresh:dead', async () => 'too early', { ttlMs: TTL, waitMs: TTL - 1 });
    await started();
    clock.advance(TTL - 1);
    await assert.rejects(early, LockTimeoutError, 'the dead holder\'s lock lasts its time-to-live');
    const taken = one.withLock('refresh:dead', async () => 'taken over', { ttlMs: TTL, waitMs: 60_000 });
    await started();
    clock.advance(1);
    assert.equal(await taken, 'taken over');
  });

  it('takes over at once a lock taken before the clock stepped back: a dead holder\'s would otherwise last the step, not its time-to-live', async () => {
    // The holder never lets go, as one killed would; then the host's clock is stepped back an hour.
    const stale = holdLock(three, 'refresh:stepped');
    await stale.held;
    clock.advance(-3_600_000);
    try {
      const taken = one.withLock('refresh:stepped', async () => 'taken over', { ttlMs: TTL, waitMs: 1000 });
      await started();
      clock.advance(1000);
      assert.equal(await taken, 'taken over');
      // A lock taken after the step is a live one, as any other.
      const holder = holdLock(one, 'refresh:stepped');
      await holder.held;
      const waiter = two.withLock('refresh:stepped', async () => 'got in', { ttlMs: TTL, waitMs: 1000 });
      await started();
      clock.advance(1000);
      await assert.rejects(waiter, LockTimeoutError);
      holder.release();
      await holder.done;
    } finally {
      clock.advance(3_600_000 - 2000);
      stale.release();
      await stale.done;
    }
  });

  it('opens a file whose lock table predates the time a lock was taken, and locks with it', async () => {
    const old = mkdtempSync(join(tmpdir(), 'bff-lock-old-'));
    const raw = new DatabaseSync(join(old, SQLITE_FILE));
    raw.exec('CREATE TABLE lock (name TEXT PRIMARY KEY, token TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID');
    raw.prepare('INSERT INTO lock (name, token, expires_at) VALUES (?, ?, ?)').run('refresh:old', 'a-holder-of-before', clock.now() + TTL);
    raw.close();
    const [first, second] = [openSqliteSessionStore(old, now), openSqliteSessionStore(old, now)];
    try {
      const waiter = first.withLock('refresh:old', async () => 'got in', { ttlMs: TTL, waitMs: 1000 });
      await started();
      clock.advance(1000);
      await assert.rejects(waiter, LockTimeoutError, 'a lock of before is held until it expires');
      clock.advance(TTL);
      assert.equal(await second.withLock('refresh:old', async () => 'got in', { ttlMs: TTL, waitMs: 1000 }), 'got in');
    } finally {
      await first.close();
      await second.close();
      rmSync(old, { recursive: true, force: true });
    }
  });

  it('makes a write wait while another process holds a write transaction, instead of failing with SQLITE_BUSY', async () => {
    // A worker thread stands for the other process: its own connection, its own thread (this
    // thread's write blocks in SQLite's busy handler until the worker commits).
    const worker = new Worker(`
      const { DatabaseSync } = require('node:sqlite');
      const { parentPort, workerData } = require('node:worker_threads');
      const db = new DatabaseSync(workerData.file);
      db.exec('BEGIN IMMEDIATE');
      db.prepare('INSERT INTO used_id (id, expires_at) VALUES (?, ?)').run('written-by-the-other', workerData.until);
      parentPort.postMessage('holding');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      db.exec('COMMIT');
      db.close();
    `, { eval: true, workerData: { file: join(dir, SQLITE_FILE), until: clock.now() + 60_000 } });
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    assert.equal(await two.firstUse('written-here', clock.now() + 60_000), true);
    assert.equal(await two.withLock('refresh:busy', async () => 'locked', { ttlMs: TTL, waitMs: 1000 }), 'locked');
    assert.equal(await two.firstUse('written-by-the-other', clock.now() + 60_000), false, 'the other process\'s write committed');
    await new Promise((resolve) => worker.once('exit', resolve));
  });
});
