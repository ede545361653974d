// Two IdP instances sharing one Redis behave as one provider: a login on one, a refresh on the
// other, reuse detected across them, retries inside the reuse interval honoured by both, one signing key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpProcess } from '../../../tests/support/idp-process.ts';
import { startRedis, type RedisProcess } from '../../../tests/support/redis-process.ts';
import { decodeJwt, login, rpConfig } from '../../../tests/support/oidc-rp.ts';

let redis: RedisProcess;
let a: IdpProcess;
let b: IdpProcess;

before(async () => {
  redis = await startRedis();
  const shared = { IDP_STORE: 'redis', IDP_REDIS_URL: redis.url, IDP_COOKIE_KEYS: 'test-cookie-key-shared-by-instances' };
  a = await startIdp(shared);
  b = await startIdp({ ...shared, IDP_ISSUER: a.issuer });
});
after(async () => {
  await a?.dispose();
  await b?.dispose();
  await redis?.stop();
});

const refreshAt = async (base: string, refreshToken: string) => {
  const res = await fetch(`${base}/oauth/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshToken }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};

test('a refresh token from instance A is rotated by instance B, and its reuse at A kills the grant', async () => {
  const spa = await rpConfig(a.issuer, 'spa');
  const { tokens } = await login(spa, 'alice', 'demo-alice');
  const atB = await refreshAt(b.base, tokens.refresh_token!);
  assert.equal(atB.status, 200);
  assert.equal(decodeJwt(atB.body['access_token']!).payload['iss'], a.issuer);
  assert.equal(decodeJwt(atB.body['access_token']!).header['kid'], decodeJwt(tokens.access_token).header['kid'], 'both sign with the shared key');
  const nextAtB = await refreshAt(b.base, atB.body['refresh_token']!);
  assert.equal(nextAtB.status, 200);
  const reuseAtA = await refreshAt(a.base, tokens.refresh_token!);
  assert.equal(reuseAtA.status, 400, 'its successor was used: reuse, whatever the instance');
  const newestAtB = await refreshAt(b.base, nextAtB.body['refresh_token']!);
  assert.equal(newestAtB.status, 400, 'the whole grant is revoked on both instances');
});

test('a retry at instance A of a refresh just rotated at B (its response lost) gets a working token', async () => {
  const spa = await rpConfig(a.issuer, 'spa');
  const { tokens } = await login(spa, 'alice', 'demo-alice');
  const lost = await refreshAt(b.base, tokens.refresh_token!);
  assert.equal(lost.status, 200);
  const retry = await refreshAt(a.base, tokens.refresh_token!);
  assert.equal(retry.status, 200, JSON.stringify(retry.body));
  const carryOn = await refreshAt(b.base, retry.body['refresh_token']!);
  assert.equal(carryOn.status, 200, 'the login carries on');
  assert.equal((await refreshAt(a.base, lost.body['refresh_token']!)).status, 400, 'the lost successor is dead');
});

test('parallel refreshes of one token on two instances, inside the reuse interval: none signs the user out', async () => {
  const spa = await rpConfig(a.issuer, 'spa');
  const { tokens } = await login(spa, 'alice', 'demo-alice');
  const results = await Promise.all([a.base, b.base, a.base, b.base].map((base) => refreshAt(base, tokens.refresh_token!)));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200], JSON.stringify(results.map((r) => r.body['error_description'] ?? '')));
  const next = await Promise.all(results.map((r) => refreshAt(a.base, r.body['refresh_token']!)));
  assert.ok(next.some((r) => r.status === 200), 'the login carries on');
});
