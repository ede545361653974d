// The BFF on the Redis store against the real IdP: login, API calls, exactly one refresh for 20
// parallel calls at expiry, logout; tokens in Redis only encrypted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from '../../../scripts/ports.ts';
import { openRedisSessionStore } from '../src/sessions/redis-session-store.ts';
import { startIdp } from '../../../tests/support/idp-process.ts';
import { startRedis, type RedisProcess } from '../../../tests/support/redis-process.ts';
import { closedIfOpened } from '../../../tests/support/closed-if-opened.ts';
import { Browser, ManualClock, startBff, startSystem, type BffUnderTest, type System } from './support/system.ts';

describe('the BFF with BFF_STORE=redis', () => {
  let redis: RedisProcess;
  let system: System;
  let bff: BffUnderTest;
  const clock = new ManualClock();

  before(async () => {
    redis = await startRedis();
    system = await startSystem();
    bff = await startBff({ BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url, BFF_STORE: 'redis', BFF_REDIS_URL: redis.url }, clock);
  });
  after(async () => {
    await bff?.dispose();
    await system?.dispose();
    await redis?.stop();
  });

  it('signs in, calls the API, renews once for 20 parallel calls at expiry, and logs out', async () => {
    const browser = new Browser(bff);
    await browser.login();
    assert.equal((await browser.request('GET', '/api/UserOne')).statusCode, 200);
    const session = await bff.sessions.load(browser.sessionId);
    const client = new Redis(redis.url);
    try {
      const keys = await client.keys('bff:session:*');
      const stored = (await Promise.all(keys.map((k) => client.get(k)))).join('\n');
      assert.ok(stored.length > 0);
      for (const token of [session!.tokens.accessToken, session!.tokens.refreshToken!, browser.sessionId!]) assert.ok(!stored.includes(token), 'in clear in Redis');
    } finally {
      client.disconnect();
    }
    clock.advance(session!.accessTokenExpiresAt - clock.now() - 1000);
    bff.tokenCalls.length = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => browser.request('GET', '/api/UserOne')));
    assert.deepEqual(answers.map((a) => a.statusCode), Array(20).fill(200));
    assert.deepEqual(bff.tokenCalls, ['refresh_token']);
    assert.equal((await browser.request('POST', '/bff/logout')).statusCode, 200);
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 401);
  });

  it('a Redis lost after start-up is one log line, and its return another: nothing printed outside the log', async (t) => {
    const printed = t.mock.method(console, 'error', () => {});
    const lines = (msg: string) => bff.logs.filter((l) => String(l['msg']).startsWith(msg));
    // Waits for a log line; the bound is a hang guard only.
    const until = async (what: () => boolean) => {
      const deadline = Date.now() + 30_000;
      while (!what()) {
        assert.ok(Date.now() < deadline, 'the line never came');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await redis.kill('SIGKILL');
    await until(() => lines('session store unreachable').length > 0);
    const browser = new Browser(bff);
    assert.equal((await browser.request('GET', '/bff/login', { csrf: false })).statusCode, 302, 'a login starts: nothing of it is kept in the store (decision 0071)');
    await redis.start();
    await until(() => lines('session store reachable again').length > 0);
    assert.deepEqual(lines('session store unreachable').map((l) => [l['level'], l['redis']]), [['warn', redis.url]], 'one line for the whole outage');
    assert.equal(printed.mock.callCount(), 0, 'no unhandled error event printed');
    assert.equal((await browser.request('GET', '/bff/login', { csrf: false })).statusCode, 302);
  });
});

it('a Redis that cannot be reached at start-up is named with its password hidden, the cause said once, no stack', async (t) => {
  const port = await freePort();
  const printed = t.mock.method(console, 'error', () => {});
  await assert.rejects(openRedisSessionStore(`redis://:redis-secret-pw@127.0.0.1:${port}/0`), (err: Error) => {
    assert.match(err.message, new RegExp(`^cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 \\(BFF_REDIS_URL\\): connect ECONNREFUSED`));
    assert.doesNotMatch(err.message, /redis-secret-pw/);
    return true;
  });
  assert.equal(printed.mock.callCount(), 0, 'no unhandled error event printed');
});

// Every setting that makes a Redis forget a session write it acknowledged (docs/decisions/0011,
// 0053): a crash (no append-only file, or one fsynced at the kernel's leisure) brings logged-out
// sessions and used back-channel logout tokens back; an evicting policy deletes sessions, logins and
// those remembered ids when memory runs short.
const forgetfulRedisSettings: Array<[string, Record<string, string>, RegExp]> = [
  ['no append-only file', { appendonly: 'no' }, /appendonly is not yes/],
  ['an append-only file fsynced by the kernel', { appendfsync: 'no' }, /appendfsync is no/],
  // everysec answers writes it has not written while an fsync is slow: a Redis crash loses up to
  // 2 s of them, a logout or a rotated refresh token among them (docs/decisions/0063).
  ['an append-only file fsynced once a second', { appendfsync: 'everysec' }, /appendfsync is everysec: .*a Redis crash \(not only a machine crash\) loses up to 2 s.*must be fsynced always/],
  // yes: no fsync at all while a rewrite of the append-only file or a snapshot runs (decision 0063).
  ['no fsync while the append-only file is rewritten', { 'no-appendfsync-on-rewrite': 'yes' }, /no-appendfsync-on-rewrite is yes: .*it must be no/],
  ['keys evicted by use once memory is full', { maxmemory: '1gb', 'maxmemory-policy': 'allkeys-lru' }, /maxmemory-policy is allkeys-lru: once its memory reaches maxmemory \(1073741824 bytes\) Redis deletes keys.*it must be noeviction/],
  ['keys with an expiry evicted (every session has one)', { 'maxmemory-policy': 'volatile-lru' }, /maxmemory-policy is volatile-lru: once a maxmemory is set/],
];

describe('a Redis that would forget session writes', () => {
  let redis: RedisProcess;
  let admin: Redis;
  const set = async (settings: Record<string, string>) => {
    const before: Record<string, string> = {};
    for (const [name, value] of Object.entries(settings)) {
      before[name] = ((await admin.call('CONFIG', 'GET', name)) as string[])[1]!;
      await admin.call('CONFIG', 'SET', name, value);
    }
    return async () => {
      for (const [name, value] of Object.entries(before)) await admin.call('CONFIG', 'SET', name, value);
    };
  };
  const production = (url: string, extra: Record<string, string> = {}) => ({
    BFF_PROFILE: 'production', BFF_PUBLIC_URL: 'https://bff.example', BFF_CLIENT_SECRET: 'a-production-secret',
    BFF_TOKEN_KEYS: Buffer.alloc(32, 7).toString('base64'), BFF_STORE: 'redis', BFF_REDIS_URL: url,
    // No IdP is needed to open the store: the BFF reads discovery later.
    BFF_AUTHORITY: 'http://127.0.0.1:9', ...extra,
  });
  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
  });
  after(async () => {
    admin?.disconnect();
    // Turning appendonly back on writes a first append-only file in the background, during which
    // redis-server refuses to stop on SIGTERM: a crash suits a throwaway server.
    await redis?.kill('SIGKILL');
    await redis?.stop();
  });

  it('stops a production BFF at start-up, naming the setting; development starts with one warning; the check can be turned off', async () => {
    for (const [what, settings, named] of forgetfulRedisSettings) {
      const restore = await set(settings);
      await assert.rejects(closedIfOpened(startBff(production(redis.url), undefined, undefined, false), (bff) => bff.dispose()), (err: Error) => {
        assert.match(err.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+\/0 \(BFF_REDIS_URL\) would lose sessions: /, what);
        assert.match(err.message, named, what);
        return true;
      });
      const unchecked = await startBff(production(redis.url, { BFF_REDIS_DURABILITY_CHECK: 'false' }), undefined, undefined, false);
      await unchecked.dispose();
      const development = await startBff({ BFF_STORE: 'redis', BFF_REDIS_URL: redis.url, BFF_AUTHORITY: 'http://127.0.0.1:9' }, undefined, undefined, false);
      const warnings = development.logs.filter((l) => String(l['msg']).startsWith('session store Redis would lose writes'));
      await development.dispose();
      assert.equal(warnings.length, 1, what);
      assert.match(String(warnings[0]!['problem']), named, what);
      await restore();
    }
  });

  it('a setting changed under a running production BFF makes /readyz 503 until it is set back', async (t) => {
    const idp = await startIdp();
    t.after(() => idp.dispose());
    const bff = await startBff(production(redis.url, { BFF_AUTHORITY: idp.issuer }));
    try {
      assert.equal((await bff.app.inject({ url: '/readyz' })).statusCode, 200);
      for (const [what, settings] of forgetfulRedisSettings) {
        const restore = await set(settings);
        const refused = await bff.app.inject({ url: '/readyz' });
        assert.equal(refused.statusCode, 503, what);
        assert.equal(refused.headers['retry-after'], '1');
        await restore();
        assert.equal((await bff.app.inject({ url: '/readyz' })).statusCode, 200, `${what}, set back`);
      }
    } finally {
      await bff.dispose();
    }
  });
});
