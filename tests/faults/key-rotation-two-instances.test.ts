// A signing-key rotation with two IdP instances on one Redis, under API load: no valid token is
// refused (docs/decisions/0009-signing-key-rotation.md). The key reload interval (2 s) and the
// API's JWKS cooldown (1 s) are shortened, and the activation delay set from them as the decision
// says (reload + cooldown + 1 s), so the run stays short. With an activation delay of 0 (the old
// behaviour) the instances switch up to 2 s apart and the API refuses the new key's tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../../apps/api/src/app.ts';
import { readApiConfig } from '../../apps/api/src/config.ts';
import { startIdp } from '../support/idp-process.ts';
import { decodeJwt, login, rpConfig, tokenRequest } from '../support/oidc-rp.ts';
import { startRedis } from '../support/redis-process.ts';
import { scale } from '../support/faults.ts';

const ROTATIONS = scale(2, 5);
/** Tokens of each new key the API must have accepted before the next rotation. */
const NEW_KEY_TOKENS = scale(20, 100);
const ROTATE_KEYS = join(import.meta.dirname, '..', '..', 'apps', 'idp', 'src', 'cli', 'rotate-keys.ts');

test(`${ROTATIONS} key rotation(s), two IdP instances on Redis, API under load: no 401`, { timeout: 300_000 }, async () => {
  const redis = await startRedis();
  const shared = { IDP_STORE: 'redis', IDP_REDIS_URL: redis.url, IDP_COOKIE_KEYS: 'fault-test-cookie-key-of-32-characters', IDP_KEY_RELOAD_INTERVAL: '2', IDP_KEY_ACTIVATION_DELAY: '4' };
  const a = await startIdp(shared);
  const b = await startIdp({ ...shared, IDP_ISSUER: a.issuer });
  const dir = mkdtempSync(join(tmpdir(), 'fault-api-'));
  const api = buildApi(readApiConfig({ AUTH_AUTHORITY: a.issuer, API_DATA_DIR: dir, AUTH_JWKS_COOLDOWN: '1' }), { logger: false });
  try {
    await api.authority.start();
    const spa = await rpConfig(a.issuer, 'spa');
    const chains = [a.base, b.base].map((base) => ({ base, token: '' }));
    for (const chain of chains) chain.token = (await login(spa, 'alice', 'demo-alice')).tokens.refresh_token!;
    const statuses = new Map<number, number>();
    let calls = 0;

    /** One refresh at each instance (alternating), each new access token sent to the API at once. */
    const round = async (): Promise<string[]> => {
      const kids: string[] = [];
      for (const chain of chains) {
        const res = await tokenRequest(chain.base, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: chain.token });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        chain.token = String(res.body['refresh_token']);
        const accessToken = String(res.body['access_token']);
        const answer = await api.app.inject({ url: '/api/UserOne', headers: { authorization: `Bearer ${accessToken}` } });
        statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
        calls++;
        kids.push(String(decodeJwt(accessToken).header['kid']));
      }
      return kids;
    };

    for (let r = 0; r < ROTATIONS; r++) {
      const out = spawnSync(process.execPath, [ROTATE_KEYS], { env: { ...process.env, ...a.env }, encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      const newKid = /New RS256 signing key (\S+),/.exec(out.stdout)![1]!;
      // Load until the API has accepted enough tokens of the new key from both instances, bounded by count.
      let seen = 0;
      for (let i = 0; i < 2000 && seen < NEW_KEY_TOKENS; i++) seen += (await round()).filter((kid) => kid === newKid).length;
      assert.ok(seen >= NEW_KEY_TOKENS, `only ${seen} tokens of the new key within the bound`);
    }
    assert.deepEqual([...statuses.keys()], [200], `API answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
    console.log(`# ${ROTATIONS} rotation(s), ${calls} API calls with fresh tokens from two instances: all 200`);
  } finally {
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
    await a.dispose();
    await b.dispose();
    await redis.stop();
  }
});
