// Sessions kept in memory never outlive the session: two BFF instances on one SQLite file (two
// connections, as two processes would have), each holding the session in memory after using it;
// a logout or a back-channel logout on one is refused by the other at once, and an idle timeout
// pushed forward by one is honoured by the other. (Two instances on Redis: redis-instances.test.ts.)
// A session is in memory from its login on, unless it ended while it was being written. And the cache's own rules: a read overtaken by a
// change is not kept, and a session whose idle timeout finds no row to push forward is over, in
// memory too.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as d from '../src/defaults.ts';
import { SessionCache } from '../src/sessions/session-cache.ts';
import type { IdpClient } from '../src/idp-client.ts';
import { SessionManager, type Session } from '../src/sessions/session-manager.ts';
import type { SessionStore } from '../src/sessions/session-store.ts';
import { openSqliteSessionStore } from '../src/sessions/sqlite-session-store.ts';
import { TokenCipher } from '../src/token-cipher.ts';
import { Browser, ManualClock, sameBrowserOn, startBff, startSystem, type BffUnderTest, type System } from './support/system.ts';

describe('two BFF instances on one SQLite file, each keeping sessions in memory', () => {
  let system: System;
  let a: BffUnderTest;
  let b: BffUnderTest;
  const clock = new ManualClock();

  before(async () => {
    system = await startSystem();
    const dir = mkdtempSync(join(tmpdir(), 'bff-cache-'));
    const env = { BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url };
    a = await startBff(env, clock, dir);
    b = await startBff(env, clock, dir);
  });
  after(async () => {
    await b?.app.close();
    await a?.dispose();
    await system?.dispose();
  });

  /** Alice signed in on a, and the same browser having used the session on both instances. */
  async function aliceUsedOnBoth() {
    const onA = new Browser(a);
    await onA.login();
    const onB = sameBrowserOn(b, onA);
    for (const browser of [onA, onB, onA, onB]) assert.equal((await browser.request('GET', '/api/UserOne')).statusCode, 200);
    return { onA, onB };
  }

  it('a logout on one instance is refused by the other at once', async () => {
    const { onA, onB } = await aliceUsedOnBoth();
    assert.equal((await onA.request('POST', '/bff/logout')).statusCode, 200);
    system.api.received.length = 0;
    assert.equal((await onB.request('GET', '/api/UserOne')).statusCode, 401);
    assert.equal((await onB.request('GET', '/bff/user')).statusCode, 401);
    assert.equal(system.api.received.length, 0, 'the API was not called');
  });

  it('sessions ended by the store elsewhere (back-channel logout by sid, by sub) are refused by the other at once', async () => {
    const first = await aliceUsedOnBoth();
    const { sid } = (await a.sessions.load(first.onA.sessionId))!;
    assert.equal(await a.store.destroyBySid(sid!), 1);
    assert.equal((await first.onB.request('GET', '/api/UserOne')).statusCode, 401);
    const second = await aliceUsedOnBoth();
    assert.ok(await a.store.destroyBySub('auth0|alice') >= 1);
    assert.equal((await second.onB.request('GET', '/api/UserOne')).statusCode, 401);
    assert.equal((await second.onA.request('GET', '/api/UserOne')).statusCode, 401);
  });

  it('keeps a session in memory from its login: the first calls read nothing, and a logout elsewhere still ends it at once', async () => {
    const reads = { count: 0 };
    const get = a.store.get;
    a.store.get = (key, at) => (reads.count++, get.call(a.store, key, at));
    try {
      const onA = new Browser(a);
      await onA.login();
      assert.equal((await onA.request('GET', '/bff/user')).statusCode, 200);
      assert.equal((await onA.request('GET', '/api/UserOne')).statusCode, 200);
      assert.equal(reads.count, 0, 'the session the callback wrote was not read back');
      assert.equal((await sameBrowserOn(b, onA).request('POST', '/bff/logout')).statusCode, 200);
      assert.equal((await onA.request('GET', '/bff/user')).statusCode, 401);
      assert.equal((await onA.request('GET', '/api/UserOne')).statusCode, 401);
    } finally {
      a.store.get = get;
    }
  });

  it('an idle timeout pushed forward by use on one instance keeps the session on the other', async () => {
    const { onA, onB } = await aliceUsedOnBoth();
    const step = (d.SESSION_IDLE_TTL_SECONDS * 1000) / 2 + 1000;
    clock.advance(step);
    assert.equal((await onA.request('GET', '/api/UserOne')).statusCode, 200);
    clock.advance(step);
    // b's copy in memory is past its idle time; the store's is not.
    assert.equal((await onB.request('GET', '/api/UserOne')).statusCode, 200);
    clock.advance(d.SESSION_IDLE_TTL_SECONDS * 1000 + 1000);
    assert.equal((await onA.request('GET', '/api/UserOne')).statusCode, 401, 'idle too long');
  });
});

describe('the session cache', () => {
  function fakeStore(): SessionStore & { tell(key: string | null): void } {
    const listeners: ((key: string | null) => void)[] = [];
    return {
      onChange: (listener: (key: string | null) => void) => listeners.push(listener),
      tell: (key: string | null) => listeners.forEach((l) => l(key)),
    } as unknown as SessionStore & { tell(key: string | null): void };
  }
  const session = (key: string) => ({ key }) as Session;

  it('keeps a session read before no change, and forgets it when the store names it or everything', () => {
    const store = fakeStore();
    const cache = new SessionCache(store, 10);
    cache.add(session('k1'), cache.epoch);
    cache.add(session('k2'), cache.epoch);
    assert.equal(cache.get('k1')?.key, 'k1');
    store.tell('k1');
    assert.equal(cache.get('k1'), undefined);
    assert.equal(cache.get('k2')?.key, 'k2');
    store.tell(null);
    assert.equal(cache.size, 0);
  });

  it('does not keep a session whose read a change overtook (ended while it was being read)', () => {
    const store = fakeStore();
    const cache = new SessionCache(store, 10);
    const epoch = cache.epoch;
    store.tell('k1');
    cache.add(session('k1'), epoch);
    assert.equal(cache.get('k1'), undefined);
  });

  it('holds at most its capacity, the oldest going first, and nothing with capacity 0', () => {
    const store = fakeStore();
    const cache = new SessionCache(store, 2);
    for (const key of ['k1', 'k2', 'k3']) cache.add(session(key), cache.epoch);
    assert.deepEqual([cache.get('k1'), cache.get('k2')?.key, cache.get('k3')?.key], [undefined, 'k2', 'k3']);
    const none = new SessionCache(store, 0);
    none.add(session('k1'), none.epoch);
    assert.equal(none.size, 0);
  });
});

describe('a session ended while the login that created it was being written', () => {
  it('is not kept in memory: the next use finds it ended', async (t) => {
    const clock = new ManualClock();
    const dir = mkdtempSync(join(tmpdir(), 'bff-create-'));
    const real = openSqliteSessionStore(dir, clock.now);
    t.after(async () => {
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // A back-channel logout for the login's sid lands between the insert and the callback's
    // answer (same connection, so the store's data_version cannot tell the cache about it).
    const store: SessionStore = Object.assign(Object.create(real) as SessionStore, {
      create: async (record: Parameters<SessionStore['create']>[0]) => {
        await real.create(record);
        assert.equal(await real.destroyBySid('s1'), 1);
      },
    });
    const sessions = new SessionManager({
      store, cipher: new TokenCipher([randomBytes(32)]), idp: {} as IdpClient, now: clock.now,
      idleTtlMs: 30 * 60_000, absoluteTtlMs: 8 * 3600_000, renewBeforeMs: 60_000, touchIntervalMs: 60_000, cacheSize: 10,
      defaultAccessTokenTtlMs: 3600_000, lock: { ttlMs: 10_000, waitMs: 10_000 }, audit: () => {},
    });
    const { id } = await sessions.create({ accessToken: 'at', refreshToken: 'rt', idToken: 'it', expiresIn: 3600, scope: 'openid', claims: { sub: 'auth0|alice', sid: 's1' } });
    assert.equal(await sessions.load(id), undefined);
  });
});

describe('a session in memory whose row is gone when its idle timeout is pushed forward', () => {
  it('is refused, and the next use reads the store again', async (t) => {
    const clock = new ManualClock();
    const dir = mkdtempSync(join(tmpdir(), 'bff-touch-'));
    const real = openSqliteSessionStore(dir, clock.now);
    t.after(async () => {
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    });
    let rowGone = false;
    let reads = 0;
    // Between the currency check and the touch another process deleted the row: the touch finds nothing.
    const store: SessionStore = Object.assign(Object.create(real) as SessionStore, {
      get: (key: string, at: number) => (reads++, real.get(key, at)),
      touch: (key: string, idleExpiresAt: number) => (rowGone ? Promise.resolve(false) : real.touch(key, idleExpiresAt)),
    });
    const touchIntervalMs = 60_000;
    const sessions = new SessionManager({
      store, cipher: new TokenCipher([randomBytes(32)]), idp: {} as IdpClient, now: clock.now,
      idleTtlMs: 30 * 60_000, absoluteTtlMs: 8 * 3600_000, renewBeforeMs: 60_000, touchIntervalMs, cacheSize: 10,
      defaultAccessTokenTtlMs: 3600_000, lock: { ttlMs: 10_000, waitMs: 10_000 }, audit: () => {},
    });
    const { id } = await sessions.create({ accessToken: 'at', refreshToken: 'rt', idToken: 'it', expiresIn: 3600, scope: 'openid', claims: { sub: 'auth0|alice', sid: 's1' } });
    assert.ok(await sessions.load(id));
    assert.ok(await sessions.load(id));
    assert.equal(reads, 0, 'kept in memory from its creation');
    rowGone = true;
    clock.advance(touchIntervalMs);
    assert.equal(await sessions.load(id), undefined, 'a session whose touch found no row is over');
    rowGone = false;
    await sessions.load(id);
    assert.equal(reads, 1, 'the copy in memory was dropped');
  });
});
