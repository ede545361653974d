// Redis comes back empty (flushed, or a new server on the old address) under two IdP instances:
// the store lost the signing keys, sessions and grants. Both instances notice at their next key
// reload (an error line naming the lost key), agree on one new signing key instead of each minting
// its own, and the logins of before are refused, never honoured: the user signs in again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startIdpInProcess } from '../support/idp-in-process.ts';
import { decodeJwt, login, rpConfig, tokenRequest } from '../support/oidc-rp.ts';
import { startRedis } from '../support/redis-process.ts';

const logged = (logs: string[], event: string) => logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['event'] === event);

test('Redis emptied under two instances: both notice, both sign with one new key, the old logins are refused', { timeout: 120_000 }, async () => {
  const redis = await startRedis();
  const shared = { IDP_STORE: 'redis', IDP_REDIS_URL: redis.url, IDP_COOKIE_KEYS: 'fault-test-cookie-key-of-32-characters' };
  const a = await startIdpInProcess(shared);
  const b = await startIdpInProcess({ ...shared, IDP_ISSUER: a.issuer });
  const client = new Redis(redis.url);
  try {
    const spa = await rpConfig(a.issuer, 'spa');
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const oldKid = decodeJwt(tokens.access_token).header['kid'];

    await client.flushall();
    // The instances' periodic reloads, at the same moment (instances started together do).
    assert.deepEqual(await Promise.all([a.idp().reloadKeys(), b.idp().reloadKeys()]), [true, true]);

    for (const [name, idp] of [['A', a], ['B', b]] as const) {
      const lost = logged(idp.logs, 'signing_key_lost');
      assert.equal(lost.length, 1, `instance ${name} says the store lost its signing key`);
      assert.equal(lost[0]!['kid'], oldKid);
    }
    const stored = await client.hkeys('idp:signing-keys');
    assert.equal(stored.length, 1, 'one new key, not one per instance');
    for (const idp of [a, b]) assert.deepEqual(logged(idp.logs, 'signing_keys_reloaded').at(-1)!['kids'], stored[0], 'each instance signs with it and publishes only it');

    const refresh = await tokenRequest(a.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
    assert.equal(refresh.status, 400, 'the refresh token of before is refused');
    assert.equal(refresh.body['error'], 'invalid_grant');
    const again = await login(spa, 'alice', 'demo-alice');
    assert.equal(decodeJwt(again.tokens.access_token).header['kid'], stored[0], 'a new login gets tokens of the new key');
  } finally {
    client.disconnect();
    await b.close();
    await a.close();
    await redis.stop();
  }
});
