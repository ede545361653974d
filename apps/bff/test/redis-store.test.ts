// The BFF on the Redis store against the real IdP: login, API calls, exactly one refresh for 20
// parallel calls at expiry, logout; tokens in Redis only encrypted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { freePort } from '../../../scripts/ports.ts';
import { openRedisSessionStore } from '../src/sessions/redis-session-store.ts';
import { startRedis, type RedisProcess } from '../../../tests/support/redis-process.ts';
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
    assert.equal((await browser.request('GET', '/bff/login', { csrf: false })).statusCode, 500, 'a login cannot be kept meanwhile');
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
