// Two BFF processes on one SQLite data directory (a rolling restart, blue/green on one host, a
// second instance for capacity), the browser's requests spread over both, against an IdP whose
// refresh tokens rotate with no reuse allowed and access tokens due for renewal 10 s after issue: 20 parallel calls
// when the access token is due for renewal cause exactly one refresh at the IdP (the lock row in
// SQLite), and every call carries the renewed token (the process that did not refresh reads it
// from the file, not from its copy in memory); a logout on one process ends the session on the
// other; a SIGKILL of one process loses no session. (The lock itself: sqlite-lock.test.ts.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { idpLogsRead } from '../../../tests/support/idp-process.ts';
import { callBff, signInOverHttp, startBffProcess, type BffProcess } from './support/bff-process.ts';
import { PUBLIC_URL, startSystem, type System } from './support/system.ts';

// Renewal is due 10 s after a token is issued (the first test waits for that, on a real clock: these
// are other processes), and the token expires 30 s later. No step of these tests outlives a token on
// a slow machine, and no step but the first test's wait lasts until the next renewal is due (which
// would add a refresh to the counts); it was 6 s to due, and 4 more to expiry.
const ACCESS_TOKEN_TTL_SECONDS = 40;
const RENEW_BEFORE_EXPIRY_SECONDS = 30;
const USER_ONE = { status: 200, body: '["user one data"]' };

describe('two BFF processes on one SQLite data directory', { timeout: 180_000 }, () => {
  let system: System;
  let dataDir: string;
  let one: BffProcess;
  let two: BffProcess;

  before(async () => {
    system = await startSystem({ IDP_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS), IDP_REFRESH_TOKEN_REUSE_INTERVAL: '0' });
    dataDir = mkdtempSync(join(tmpdir(), 'bff-shared-'));
    const env = {
      BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url, BFF_PUBLIC_URL: PUBLIC_URL, BFF_DATA_DIR: dataDir,
      BFF_TOKEN_KEYS: randomBytes(32).toString('base64'), BFF_RENEW_BEFORE_EXPIRY: String(RENEW_BEFORE_EXPIRY_SECONDS),
    };
    // Started at once: both create the schema and switch the new file to WAL at the same time.
    [one, two] = await Promise.all([startBffProcess(env), startBffProcess(env)]);
  });
  after(async () => {
    await one?.dispose();
    await two?.dispose();
    await system?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const idpEvents = (event: string) => system.idp.logs.filter((l) => l.includes(`"event":"${event}"`)).length;

  it('20 parallel calls spread over both processes when the access token is due cause exactly one refresh, all with the renewed token, and no revoked grant', async () => {
    const ua = await signInOverHttp(one.base, system.idp.issuer);
    // Both processes hold the session in memory before the renewal.
    assert.deepEqual(await callBff(ua, one.base, '/api/UserOne'), USER_ONE);
    assert.deepEqual(await callBff(ua, two.base, '/api/UserOne'), USER_ONE);
    const { renewsAt, accessTokenExpiresAt } = JSON.parse((await callBff(ua, two.base, '/bff/user')).body) as { renewsAt: number; accessTokenExpiresAt: number };
    // Waiting for the renewal to be due (a real clock: these are other processes).
    await sleep(Math.max(0, renewsAt - Date.now()) + 50);
    await idpLogsRead(system.idp);
    const refreshesBefore = idpEvents('token_refreshed');
    const apiCallsBefore = system.api.received.length;

    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => callBff(ua, i % 2 ? two.base : one.base, '/api/UserOne')));
    assert.deepEqual(answers, Array(20).fill(USER_ONE));
    await idpLogsRead(system.idp);
    assert.equal(idpEvents('token_refreshed') - refreshesBefore, 1, 'exactly one refresh at the IdP');
    for (const event of ['replay_detected', 'grant_revoked', 'refresh_token_retried']) {
      assert.equal(idpEvents(event), 0, `the IdP logged ${event}`);
    }
    const bearers = new Set(system.api.received.slice(apiCallsBefore).map((r) => r.headers['authorization']));
    assert.equal(bearers.size, 1, 'every call carried the one renewed access token');

    // Each process now answers the renewed session, and a renewal on the process that did not
    // refresh uses the rotated refresh token (the old one would revoke the grant).
    for (const base of [one.base, two.base]) {
      const user = JSON.parse((await callBff(ua, base, '/bff/user')).body) as { accessTokenExpiresAt: number; lastRenewal: { ok: boolean } };
      assert.ok(user.accessTokenExpiresAt > accessTokenExpiresAt);
      assert.equal(user.lastRenewal.ok, true);
    }
    // Exactly one process refreshed; its audit line (on its stdout) may still be on its way.
    const refreshed = (l: string) => l.includes('"audit":"refresh"');
    for (const deadline = Date.now() + 30_000; ![one, two].some((p) => p.logs.some(refreshed)); await sleep(10)) {
      assert.ok(Date.now() < deadline, 'neither process logged its refresh within 30 s');
    }
    const renewedBy = one.logs.some(refreshed) ? two : one;
    const renewal = await callBff(ua, renewedBy.base, '/bff/renew', 'POST');
    assert.equal(renewal.status, 200, renewal.body);
    assert.deepEqual(await callBff(ua, one.base, '/api/UserOne'), USER_ONE);
    await idpLogsRead(system.idp);
    assert.equal(idpEvents('token_refreshed') - refreshesBefore, 2);
    assert.equal(idpEvents('replay_detected') + idpEvents('grant_revoked'), 0, 'the grant is alive');
  });

  it('a logout on one process ends the session on the other, which held it in memory', async () => {
    const ua = await signInOverHttp(one.base, system.idp.issuer);
    assert.deepEqual(await callBff(ua, two.base, '/api/UserOne'), USER_ONE);
    assert.equal((await callBff(ua, two.base, '/bff/user')).status, 200);
    const cookieBefore = [...ua.jar.cookies];
    assert.equal((await callBff(ua, one.base, '/bff/logout', 'POST')).status, 200);
    // The browser's old cookie, replayed on the other process.
    for (const [name, value] of cookieBefore) ua.jar.cookies.set(name, value);
    assert.equal((await callBff(ua, two.base, '/bff/user')).status, 401);
    assert.equal((await callBff(ua, two.base, '/api/UserOne')).status, 401);
  });

  it('a SIGKILL of one process loses no session: the other keeps serving it and signs in new ones, and the restarted one serves both', async () => {
    const alice = await signInOverHttp(one.base, system.idp.issuer);
    assert.deepEqual(await callBff(alice, two.base, '/api/UserOne'), USER_ONE);
    await one.kill('SIGKILL');
    assert.deepEqual(await callBff(alice, two.base, '/api/UserOne'), USER_ONE);
    assert.equal((await callBff(alice, two.base, '/bff/user')).status, 200);
    const later = await signInOverHttp(two.base, system.idp.issuer);
    await one.start();
    for (const ua of [alice, later]) {
      assert.deepEqual(await callBff(ua, one.base, '/api/UserOne'), USER_ONE);
      assert.equal((await callBff(ua, one.base, '/bff/user')).status, 200);
    }
  });
});
