// Brute force against the login form slows down, then gets 429, per username and per IP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startIdp, type IdpProcess } from '../../../tests/support/idp-process.ts';
import { authorizationRequest, followIdpRedirects, rpConfig, userAgent } from '../../../tests/support/oidc-rp.ts';

let idp: IdpProcess;
let spa: oidc.Configuration;
before(async () => {
  idp = await startIdp({ IDP_LOGIN_MAX_FAILURES_PER_USER: '5', IDP_LOGIN_MAX_FAILURES_PER_IP: '12' });
  spa = await rpConfig(idp.issuer, 'spa');
});
after(async () => idp.dispose());

async function tryLogin(username: string, password: string) {
  const ua = userAgent();
  const page = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
  const action = /action="([^"]+\/login)"/.exec(await page.text())![1]!;
  const started = Date.now();
  const res = await ua.request(new URL(action, idp.issuer), {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }).toString(),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text(), elapsed: Date.now() - started };
}

test('repeated failures for one username end in 429, even with the right password', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await tryLogin('alice', `guess-${i}`)).status);
  assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
  const delays = idp.logs.filter((l) => l.includes('"login_failure"')).map((l) => JSON.parse(l).delayMs as number);
  assert.deepEqual(delays, [0, 0, 0, 250, 500], 'attempts past the third are slowed down, doubling');
  const locked = await tryLogin('alice', 'demo-alice');
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.retryAfter) > 0);
  assert.match(locked.body, /Too many failed sign-in attempts/);
  assert.ok(idp.logs.some((l) => l.includes('"login_throttled"')));
  assert.ok(!idp.logs.some((l) => l.includes('guess-')), 'attempted passwords are never logged');
});

test('failures across many usernames from one IP end in 429 for everyone on that IP', async () => {
  // 5 failures already counted for this IP by the previous test.
  for (let i = 0; i < 7; i++) assert.equal((await tryLogin(`user-${i}`, 'nope')).status, 401);
  assert.equal((await tryLogin('bob', 'demo-bob')).status, 429);
});

test('the lockout survives a restart', async () => {
  await idp.restart('SIGKILL');
  assert.equal((await tryLogin('alice', 'demo-alice')).status, 429);
});
