// The session-store contract, run against both stores (SQLite and Redis, each with a second
// connection standing for a second instance): expiry, no resurrection by an update, atomic
// destroy (exactly one winner), the sid and sub indexes, the replay guard and used ids,
// and a lock that serialises holders and frees itself when a holder dies (SQLite's with a manual
// clock and a killed process: sqlite-lock.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataDirError } from '@suite/process-shell';
import { damageSqliteFile } from '../../../tests/support/damaged-sqlite.ts';
import { schemaOf, writeNewerDatabase, writeOlderDatabase } from '../../../tests/support/schema-version.ts';
import { startRedis, type RedisProcess } from '../../../tests/support/redis-process.ts';
import { openRedisSessionStore } from '../src/sessions/redis-session-store.ts';
import { LockTimeoutError, type SessionRecord, type SessionStore } from '../src/sessions/session-store.ts';
import { openSqliteSessionStore, SCHEMA_VERSION, SQLITE_FILE } from '../src/sessions/sqlite-session-store.ts';

const HOUR = 3600_000;

function record(key: string, fields: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return { key, sub: 'auth0|alice', sid: 'sid-1', createdAt: now, idleExpiresAt: now + HOUR, absoluteExpiresAt: now + 2 * HOUR, payload: '{"v":1}', ...fields };
}

interface Backend {
  name: string;
  /** `second` stands for a second instance; `peer()` opens one more connection (closed with the rest). */
  open(): Promise<{ store: SessionStore; second: SessionStore; peer(): Promise<SessionStore>; close(): Promise<void> }>;
}

let redis: RedisProcess | undefined;
const backends: Backend[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'bff-store-'));
      const store = openSqliteSessionStore(dir);
      // Another connection to the same file stands for a second BFF process.
      const second = openSqliteSessionStore(dir);
      const peers: SessionStore[] = [];
      return {
        store, second,
        // One more connection: another process, or an operator's sqlite3 shell.
        async peer() {
          peers.push(openSqliteSessionStore(dir));
          return peers.at(-1)!;
        },
        async close() {
          for (const peer of peers) await peer.close();
          await store.close();
          await second.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'Redis',
    async open() {
      const store = await openRedisSessionStore(redis!.url);
      // A second connection stands for a second BFF instance.
      const second = await openRedisSessionStore(redis!.url);
      const peers: SessionStore[] = [];
      return {
        store, second,
        async peer() {
          peers.push(await openRedisSessionStore(redis!.url));
          return peers.at(-1)!;
        },
        async close() {
          for (const peer of peers) await peer.close();
          await store.close();
          await second.close();
        },
      };
    },
  },
];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

for (const backend of backends) {
  describe(`the ${backend.name} session store`, () => {
    let store: SessionStore;
    let second: SessionStore;
    let peer: () => Promise<SessionStore>;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, second, peer, close } = await backend.open());
    });
    after(async () => close());

    it('answers a live session, and nothing once its idle or absolute time has passed', async () => {
      const s = record('k-expiry');
      await store.create(s);
      assert.deepEqual(await second.get('k-expiry', Date.now()), s);
      assert.equal(await store.get('k-expiry', s.idleExpiresAt), undefined);
      await store.update({ ...s, idleExpiresAt: s.absoluteExpiresAt + HOUR });
      assert.equal(await store.get('k-expiry', s.absoluteExpiresAt), undefined, 'the absolute lifetime wins');
      assert.equal(await store.get('k-missing', Date.now()), undefined);
    });

    it('never brings a destroyed session back with an update', async () => {
      const s = record('k-update');
      await store.create(s);
      assert.equal(await store.update({ ...s, payload: '{"v":2}' }), true);
      assert.equal((await second.get('k-update', Date.now()))?.payload, '{"v":2}');
      assert.ok(await second.destroy('k-update'));
      assert.equal(await store.update({ ...s, payload: '{"v":3}' }), false);
      assert.equal(await store.get('k-update', Date.now()), undefined);
    });

    it('destroys exactly once: of parallel destroys one gets the session', async () => {
      await store.create(record('k-destroy'));
      const results = await Promise.all([store.destroy('k-destroy'), second.destroy('k-destroy'), store.destroy('k-destroy')]);
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('ends every session of an IdP session by sid, and every session of a user by sub, leaving others', async () => {
      await store.create(record('k-a1', { sid: 'sid-a', sub: 'user-a' }));
      await store.create(record('k-a2', { sid: 'sid-a', sub: 'user-a' }));
      await store.create(record('k-a3', { sid: 'sid-a2', sub: 'user-a' }));
      await store.create(record('k-b1', { sid: 'sid-b', sub: 'user-b' }));
      await store.create(record('k-c1', { sid: null, sub: 'user-c' }));
      assert.equal(await second.destroyBySid('sid-a'), 2);
      assert.equal(await store.get('k-a1', Date.now()), undefined);
      assert.ok(await store.get('k-a3', Date.now()));
      assert.equal(await second.destroyBySub('user-a'), 1);
      assert.equal(await store.get('k-a3', Date.now()), undefined);
      assert.ok(await store.get('k-b1', Date.now()), 'another user\'s session lives');
      assert.equal(await store.destroyBySub('user-c'), 1);
      assert.equal(await store.destroyBySid('sid-none'), 0);
    });

    it('pushes the idle expiry forward only, keeping what another instance wrote, and never brings an ended session back', async () => {
      const s = record('k-touch');
      await store.create(s);
      await second.update({ ...s, payload: '{"v":"renewed elsewhere"}' });
      assert.equal(await store.touch('k-touch', s.idleExpiresAt + HOUR), true);
      const touched = await second.get('k-touch', s.idleExpiresAt + 1);
      assert.equal(touched?.payload, '{"v":"renewed elsewhere"}');
      assert.equal(touched?.idleExpiresAt, s.idleExpiresAt + HOUR);
      assert.equal(await store.touch('k-touch', s.idleExpiresAt), true, 'still there');
      assert.equal((await second.get('k-touch', Date.now()))?.idleExpiresAt, s.idleExpiresAt + HOUR, 'never moved back');
      await second.destroy('k-touch');
      assert.equal(await store.touch('k-touch', s.idleExpiresAt + 2 * HOUR), false);
      assert.equal(await store.get('k-touch', Date.now()), undefined);
    });

    it('names to its listeners every session it changes or ends', async () => {
      const heard: (string | null)[] = [];
      store.onChange((key) => heard.push(key));
      await store.create(record('k-n1', { sid: 'sid-n', sub: 'user-n' }));
      await store.create(record('k-n2', { sid: 'sid-n', sub: 'user-n' }));
      await store.create(record('k-n3', { sid: 'sid-n3', sub: 'user-n' }));
      await store.create(record('k-n4', { sid: null, sub: 'user-n4' }));
      await store.update(record('k-n4', { sid: null, sub: 'user-n4', payload: '{"v":2}' }));
      assert.deepEqual(heard, ['k-n4']);
      await store.destroy('k-n4');
      await store.destroyBySid('sid-n');
      await store.destroyBySub('user-n');
      assert.deepEqual(heard.slice(1, 2), ['k-n4']);
      assert.deepEqual(heard.slice(2).sort(), ['k-n1', 'k-n2', 'k-n3']);
    });

    it('tells another connection that a session it holds was ended elsewhere', async () => {
      const other = await peer();
      await store.create(record('k-held'));
      assert.ok(await other.get('k-held', Date.now()));
      await other.stillCurrent('k-held');
      assert.equal(await other.stillCurrent('k-held'), true, 'nothing happened elsewhere since');
      await store.destroy('k-held');
      assert.equal(await other.stillCurrent('k-held'), false, 'ended elsewhere');
      await store.create(record('k-held-2'));
      await other.stillCurrent('k-held-2');
      await store.destroyBySub('auth0|alice');
      assert.equal(await other.stillCurrent('k-held-2'), false, 'ended elsewhere by its user');
    });

    it('accepts an id once until its expiry (the back-channel replay guard)', async () => {
      const until = Date.now() + 60_000;
      const uses = await Promise.all([store.firstUse('jti-1', until), second.firstUse('jti-1', until), store.firstUse('jti-1', until)]);
      assert.deepEqual(uses.sort(), [false, false, true]);
      assert.equal(await store.firstUse('jti-2', until), true);
    });

    it('says whether an id was used, on every instance, without marking it (a callback\'s state)', async () => {
      const until = Date.now() + 60_000;
      assert.equal(await store.used('state-1', Date.now()), false);
      assert.equal(await second.used('state-1', Date.now()), false, 'asking marks nothing');
      assert.equal(await store.firstUse('state-1', until), true);
      assert.equal(await second.used('state-1', Date.now()), true);
      assert.equal(await store.used('state-2', Date.now()), false);
    });

    it('runs lock holders one at a time, across instances', async () => {
      let inside = 0;
      let most = 0;
      const order: number[] = [];
      const holder = (s: SessionStore, i: number) => s.withLock('refresh:k', async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setImmediate(r));
        order.push(i);
        inside--;
        return i;
      }, { ttlMs: 5000, waitMs: 30_000 }); // the wait bounds a hang only: ten holds in a row on a busy machine
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => holder(i % 2 ? second : store, i)));
      assert.deepEqual(results, Array.from({ length: 10 }, (_, i) => i));
      assert.equal(most, 1);
      assert.equal(order.length, 10);
      // A holder that throws releases the lock.
      await assert.rejects(store.withLock('refresh:k', async () => { throw new Error('boom'); }, { ttlMs: 5000, waitMs: 1000 }), /boom/);
      assert.equal(await second.withLock('refresh:k', async () => 'free', { ttlMs: 5000, waitMs: 1000 }), 'free');
    });

    if (backend.name === 'Redis') {
      it('frees the lock of a dead holder after its time-to-live, and times out a waiter before that', async () => {
        // The first instance takes the lock and never releases it (it "dies" holding it). Redis
        // expires it on its own clock: the waiter below must try within the lock's time-to-live,
        // so that is far longer than its 50 ms wait (with 300 ms, a stall of the test process of
        // a quarter second let the waiter in and failed the test).
        const DEAD_HOLDER_TTL_MS = 3000;
        let release!: () => void;
        const held = new Promise<void>((r) => { release = r; });
        let locked!: () => void;
        const isLocked = new Promise<void>((r) => { locked = r; });
        const holding = store.withLock('refresh:dead', () => { locked(); return held; }, { ttlMs: DEAD_HOLDER_TTL_MS, waitMs: 100 });
        await isLocked;
        await assert.rejects(second.withLock('refresh:dead', async () => 'x', { ttlMs: 300, waitMs: 50 }), LockTimeoutError);
        // Taken over once the time-to-live has passed; the wait only bounds a hang.
        assert.equal(await second.withLock('refresh:dead', async () => 'taken over', { ttlMs: 300, waitMs: 30_000 }), 'taken over');
        release();
        await holding;
      });
    }
  });
}

it('a SQLite store on a full volume is not ready, and is again once space returns (readiness writes, as sessions do)', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to mount a small tmpfs');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bff-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    t.skip('cannot mount a tmpfs');
    return;
  }
  const store = openSqliteSessionStore(join(dir, 'data'));
  const filler = join(dir, 'filler');
  try {
    await store.ping();
    // Whatever is left of the volume, taken by another file (dd stops at ENOSPC).
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4096']);
    await assert.rejects(store.ping(), /full/);
    await assert.rejects(store.create(record('while-full')), 'a session cannot be written either');
    rmSync(filler);
    await store.ping();
  } finally {
    await store.close();
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a damaged session database stops the start with its path and what to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bff-damaged-'));
  try {
    const store = openSqliteSessionStore(dir);
    for (let i = 0; i < 200; i++) await store.create(record(`damaged-${i}`, { payload: 'x'.repeat(1000) }));
    await store.close();
    damageSqliteFile(join(dir, SQLITE_FILE));
    assert.throws(() => openSqliteSessionStore(dir), (err: Error) => err instanceof DataDirError
      && err.message.startsWith(`cannot open the session database in BFF_DATA_DIR: ${dir}: the database file ${join(dir, SQLITE_FILE)} is corrupted (`)
      && err.message.endsWith('); restore it from a backup, or move it away to start with an empty one'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a session database of another schema version: a newer one stops the start untouched, naming both versions; an older one is upgraded and stamped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bff-schema-'));
  const file = join(dir, SQLITE_FILE);
  try {
    writeNewerDatabase(file, SCHEMA_VERSION + 1);
    assert.throws(() => openSqliteSessionStore(dir), (err: Error) => err instanceof DataDirError
      && err.message === `cannot open the session database in BFF_DATA_DIR: ${dir}: the database file ${file} has schema version ${SCHEMA_VERSION + 1}, written by a newer version of this app (this one knows up to ${SCHEMA_VERSION}); run that version, or restore a backup made before the upgrade`);
    assert.deepEqual(schemaOf(file), { version: SCHEMA_VERSION + 1, tables: ['from_the_future'], columns: [] }, 'nothing read into it, nothing written');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);

    // Before the stamp: the refresh lock without taken_at.
    writeOlderDatabase(file, 'CREATE TABLE lock (name TEXT PRIMARY KEY, token TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID');
    const store = openSqliteSessionStore(dir);
    await store.create(record('after-upgrade'));
    assert.ok(await store.get('after-upgrade', 0));
    await store.close();
    const upgraded = schemaOf(file, 'lock');
    assert.equal(upgraded.version, SCHEMA_VERSION);
    assert.ok(upgraded.columns.includes('taken_at'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
