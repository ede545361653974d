// Two IdP instances sharing one Redis behave as one provider: a login on one, a refresh on the
// other, reuse detected across them, one signing key.
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
  const reuseAtA = await refreshAt(a.base, tokens.refresh_token!);
  assert.equal(reuseAtA.status, 400);
  const newestAtB = await refreshAt(b.base, atB.body['refresh_token']!);
  assert.equal(newestAtB.status, 400, 'the whole grant is revoked on both instances');
});

test('parallel refreshes of one token on two instances: exactly one wins', async () => {
  const spa = await rpConfig(a.issuer, 'spa');
  const { tokens } = await login(spa, 'alice', 'demo-alice');
  const results = await Promise.all([a.base, b.base, a.base, b.base].map((base) => refreshAt(base, tokens.refresh_token!)));
  assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => [r.status, r.body['error_description'] ?? ''])));
});
