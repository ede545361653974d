// Two BFF instances sharing one Redis, the browser's requests alternating between them: a login
// on one is a session on both; 20 parallel calls at the access token's expiry cause exactly one
// refresh at the IdP (the lock in Redis) and no revoked grant; a logout or a back-channel logout
// received by one ends the session on the other; a replayed logout token is refused by the other;
// and killing an instance (SIGKILL) loses no session; a Redis refusing writes is logged without
// the commands' arguments.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { idpLogsRead } from '../../../tests/support/idp-process.ts';
import { startRedis, type RedisProcess } from '../../../tests/support/redis-process.ts';
import type { UserAgent } from '../../../tests/support/oidc-rp.ts';
import { callBff, signInOverHttp, startBffProcess, type BffProcess } from './support/bff-process.ts';
import { idpSigner, type IdpSigner } from './support/idp-signer.ts';
import { auditEvents, Browser, ManualClock, PUBLIC_URL, sameBrowserOn, startBff, startSystem, type BffUnderTest, type System } from './support/system.ts';

describe('two BFF instances on one Redis', () => {
  let redis: RedisProcess;
  let system: System;
  let a: BffUnderTest;
  let b: BffUnderTest;
  let signer: IdpSigner;
  const clock = new ManualClock();
  let env: Record<string, string>;

  before(async () => {
    redis = await startRedis();
    system = await startSystem();
    // Both instances must decrypt each other's sessions: the same token key, from the environment.
    env = {
      BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url, BFF_STORE: 'redis', BFF_REDIS_URL: redis.url,
      BFF_TOKEN_KEYS: randomBytes(32).toString('base64'),
    };
    a = await startBff(env, clock);
    b = await startBff(env, clock);
    signer = await idpSigner(system.idp, clock.now);
  });
  after(async () => {
    await a?.dispose();
    await b?.dispose();
    await system?.dispose();
    await redis?.stop();
  });

  async function aliceOnBoth() {
    const onA = new Browser(a);
    await onA.login();
    return { onA, onB: sameBrowserOn(b, onA) };
  }

  it('a login on one instance is a session on both; API calls through either', async () => {
    const { onA, onB } = await aliceOnBoth();
    const user = await onB.request('GET', '/bff/user');
    assert.equal(user.statusCode, 200);
    assert.equal(user.json().sub, 'auth0|alice');
    for (const browser of [onA, onB, onA, onB]) {
      const res = await browser.request('GET', '/api/UserOne');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), ['user one data']);
    }
  });

  it('20 parallel calls spread over both instances at the expiry cause exactly one refresh and no revoked grant', async () => {
    const { onA, onB } = await aliceOnBoth();
    const session = await a.sessions.load(onA.sessionId);
    assert.ok(session);
    const refreshes = () => [...a.tokenCalls, ...b.tokenCalls].filter((g) => g === 'refresh_token').length;
    const before = refreshes();
    clock.advance(session.accessTokenExpiresAt - clock.now() + 1000);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? onB : onA).request('GET', '/api/UserOne')));
    assert.deepEqual(answers.map((r) => r.statusCode), Array(20).fill(200));
    assert.equal(refreshes() - before, 1, 'exactly one refresh at the IdP');
    // Every line the IdP wrote so far read from its pipe, before saying one is not there.
    await idpLogsRead(system.idp);
    assert.ok(!system.idp.logs.some((l) => l.includes('"replay_detected"')), 'the IdP saw no reuse of a refresh token');
    assert.ok(!system.idp.logs.some((l) => l.includes('"grant_revoked"')), 'no grant was revoked');
    const renewed = await b.sessions.load(onB.sessionId);
    assert.equal(renewed?.generation, session.generation + 1);
    // The rotated refresh token works: the grant is alive (a second renewal, on the other instance).
    clock.advance(renewed!.accessTokenExpiresAt - clock.now() + 1000);
    assert.equal((await onB.request('GET', '/api/UserOne')).statusCode, 200);
    assert.equal(refreshes() - before, 2);
  });

  it('a logout on one instance ends the session on the other', async () => {
    const { onA, onB } = await aliceOnBoth();
    assert.equal((await onB.request('GET', '/bff/user')).statusCode, 200);
    const out = await onA.request('POST', '/bff/logout');
    assert.equal(out.statusCode, 200);
    assert.equal((await onB.request('GET', '/bff/user')).statusCode, 401);
    assert.equal((await onB.request('GET', '/api/UserOne')).statusCode, 401);
  });

  it('a back-channel logout received by one instance ends the session on the other', async () => {
    const { onA, onB } = await aliceOnBoth();
    const { sid } = (await a.sessions.load(onA.sessionId))!;
    const token = await signer.logoutToken({ claims: { sid: sid! } });
    const res = await b.app.inject({ method: 'POST', url: '/bff/backchannel', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `logout_token=${token}` });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await onA.request('GET', '/bff/user')).statusCode, 401);
    assert.equal((await onB.request('GET', '/bff/user')).statusCode, 401);
    assert.equal(auditEvents(b, 'backchannel_logout').at(-1)?.['sessions'], 1);
  });

  it('a logout token accepted by one instance is refused as a replay by the other', async () => {
    const { onA } = await aliceOnBoth();
    const jti = `once-${Date.now()}`;
    const post = (bff: BffUnderTest, token: string) =>
      bff.app.inject({ method: 'POST', url: '/bff/backchannel', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `logout_token=${token}` });
    assert.equal((await post(a, await signer.logoutToken({ claims: { jti, sid: 'no-such-idp-session' } }))).statusCode, 200);
    const { sid } = (await a.sessions.load(onA.sessionId))!;
    const replay = await post(b, await signer.logoutToken({ claims: { jti, sid: sid! } }));
    assert.equal(replay.statusCode, 400);
    assert.equal((await onA.request('GET', '/bff/user')).statusCode, 200, 'the session lives');
  });
  it('a Redis that refuses writes (a replica after a failover) is logged with its error, never with the command\'s arguments', async () => {
    const admin = new Redis(redis.url);
    const { onA } = await aliceOnBoth();
    const logged = a.rawLogs.length;
    try {
      // A replica of a primary that does not answer keeps its data and refuses every write.
      await admin.replicaof('127.0.0.1', '1');
      // A callback takes the store's lock of its state: a write.
      const flooder = new Browser(a);
      const start = await flooder.request('GET', '/bff/login', { csrf: false });
      const state = new URL(start.headers.location as string).searchParams.get('state')!;
      const callback = await flooder.request('GET', `/bff/callback?code=made-up&state=${state}`, { csrf: false });
      assert.equal(callback.statusCode, 500);
      const logout = await onA.request('POST', '/bff/logout');
      assert.equal(logout.statusCode, 500);
    } finally {
      await admin.replicaof('NO', 'ONE');
      admin.disconnect();
    }
    const lines = a.rawLogs.slice(logged).map((l) => JSON.parse(l) as { err?: Record<string, unknown> }).filter((l) => l.err);
    assert.equal(lines.length, 2, 'both failures are logged');
    for (const { err } of lines) {
      assert.match(String(err!['message']), /READONLY/);
      assert.deepEqual(Object.keys(err!).filter((key) => !['type', 'message', 'code', 'stack'].includes(key)), [], 'only what the error says');
    }
    // The login's nonce and PKCE verifier, the session record, the commands' arguments.
    assert.doesNotMatch(a.rawLogs.slice(logged).join('\n'), /codeVerifier|nonce|bff:session:|"args"/);
  });
});

describe('two BFF processes on one Redis, one killed', () => {
  let redis: RedisProcess;
  let system: System;
  let one: BffProcess;
  let two: BffProcess;

  before(async () => {
    redis = await startRedis();
    system = await startSystem();
    const env = {
      BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url, BFF_STORE: 'redis', BFF_REDIS_URL: redis.url,
      BFF_TOKEN_KEYS: randomBytes(32).toString('base64'), BFF_PUBLIC_URL: PUBLIC_URL,
    };
    [one, two] = await Promise.all([startBffProcess(env), startBffProcess(env)]);
  });
  after(async () => {
    await one?.dispose();
    await two?.dispose();
    await system?.dispose();
    await redis?.stop();
  });

  const userOne = (ua: UserAgent, base: string) => callBff(ua, base, '/api/UserOne');

  it('SIGKILL of the instance that created the session loses nothing: the other serves it, and so does the restarted one', async () => {
    const ua = await signInOverHttp(one.base, system.idp.issuer);
    assert.deepEqual(await userOne(ua, two.base), { status: 200, body: '["user one data"]' });
    await one.kill('SIGKILL');
    assert.deepEqual(await userOne(ua, two.base), { status: 200, body: '["user one data"]' });
    await one.start();
    assert.deepEqual(await userOne(ua, one.base), { status: 200, body: '["user one data"]' });
    const user = await ua.request(`${one.base}/bff/user`, { headers: { 'x-csrf': '1' } });
    assert.equal(user.status, 200);
  });

});
