// Redis killed (SIGKILL) with the persistence the IdP requires (appendonly yes, appendfsync always;
// docs/decisions/0011-durable-redis.md, 0063-acknowledged-writes-survive-a-power-cut.md) right after a burst of
// logins and refreshes: after its restart no refresh token or session is lost and no used refresh
// token is accepted. With always, Redis writes and fsyncs each write before it answers, so this
// holds however loaded the disk; everysec (which the IdP refuses, store-health.test.ts) may answer
// writes it has not written yet while an fsync is slow, and this test then failed by chance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idpLogsRead, startIdp } from '../support/idp-process.ts';
import { login, rpConfig, tokenRequest, type UserAgent } from '../support/oidc-rp.ts';
import { startRedis } from '../support/redis-process.ts';
import { isReady, scale, until } from '../support/faults.ts';

const USERS = scale(6, 40);

test(`Redis SIGKILL after ${USERS} logins and refreshes: nothing lost, nothing resurrected`, { timeout: 300_000 }, async () => {
  const redis = await startRedis();
  // Strict reuse detection: a used token presented again must be refused, whatever the timing.
  const idp = await startIdp({ IDP_STORE: 'redis', IDP_REDIS_URL: redis.url, IDP_REFRESH_TOKEN_REUSE_INTERVAL: '0' });
  try {
    // The Redis under test is one the IdP's own check accepts (it warns in development otherwise):
    // what this test proves is what production runs on.
    await idpLogsRead(idp);
    assert.equal(idp.logs.filter((l) => l.includes('"redis_not_durable"')).length, 0, 'the Redis under test is not what the IdP requires');
    const spa = await rpConfig(idp.issuer, 'spa');
    const refresh = (token: string) => tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: token });
    const users: Array<{ used: string; live: string; ua: UserAgent }> = [];
    for (let i = 0; i < USERS; i++) {
      const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
      const rotated = await refresh(tokens.refresh_token!);
      assert.equal(rotated.status, 200);
      users.push({ used: tokens.refresh_token!, live: String(rotated.body['refresh_token']), ua });
    }

    await redis.kill('SIGKILL');
    await redis.start();
    await until('the IdP is ready again', () => isReady(idp.base));

    const half = Math.ceil(USERS / 2);
    // Nothing resurrected: the used tokens stay used (and their reuse revokes those logins).
    const replays = await Promise.all(users.slice(0, half).map((u) => refresh(u.used)));
    assert.deepEqual(replays.map((r) => r.status), replays.map(() => 400), 'used refresh tokens accepted again');
    // Nothing lost: the live tokens work and the IdP sessions still sign in without a password.
    const carryOn = await Promise.all(users.slice(half).map((u) => refresh(u.live)));
    assert.deepEqual(carryOn.map((r) => r.status), carryOn.map(() => 200), 'refresh tokens lost');
    for (const u of users.slice(half)) {
      const sso = await login(spa, 'alice', 'wrong-password-never-checked', u.ua);
      assert.ok(sso.tokens.access_token, 'the IdP session survived');
    }
    console.log(`# ${USERS} logins and refreshes before a Redis SIGKILL: ${half} used tokens still refused, ${USERS - half} logins and sessions intact`);
  } finally {
    await idp.dispose();
    await redis.stop();
  }
});
