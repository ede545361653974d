// The refresh-token reuse interval over HTTP (docs/decisions/0010-refresh-token-reuse-interval.md),
// and a refused refresh request that must leave its token usable (validated before consumption).
// The store-level tests (store.test.ts) run both sides against SQLite and Redis with a manual clock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { API_AUDIENCE, login, rpConfig, tokenRequest } from '../../../tests/support/oidc-rp.ts';

const refresh = (idp: InProcessIdp, refreshToken: string, extra: Record<string, string> = {}) =>
  tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshToken, ...extra });

async function signedIn(idp: InProcessIdp): Promise<string> {
  const { tokens } = await login(await rpConfig(idp.issuer, 'spa'), 'alice', 'demo-alice');
  return tokens.refresh_token!;
}

describe('with the default reuse interval', () => {
  let idp: InProcessIdp;
  before(async () => { idp = await startIdpInProcess(); });
  after(async () => idp.close());

  test('a retry with the previous token, its successor unused, gets a working successor; the unused one dies', async () => {
    const first = await signedIn(idp);
    const lost = await refresh(idp, first);
    assert.equal(lost.status, 200);
    const retry = await refresh(idp, first);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.ok(retry.body['access_token']);
    assert.notEqual(retry.body['refresh_token'], lost.body['refresh_token']);
    const carryOn = await refresh(idp, String(retry.body['refresh_token']));
    assert.equal(carryOn.status, 200, 'the login carries on');
    const stale = await refresh(idp, String(lost.body['refresh_token']));
    assert.equal(stale.status, 400, 'the successor that was never used is revoked');
    assert.equal((await refresh(idp, String(carryOn.body['refresh_token']))).status, 200, 'its refusal did not revoke the login');
    assert.ok(idp.logs.some((l) => l.includes('"refresh_token_retried"')), 'the retry is audited');
  });

  test('a retry after the successor was used revokes the whole login', async () => {
    const first = await signedIn(idp);
    const second = await refresh(idp, first);
    const third = await refresh(idp, String(second.body['refresh_token']));
    assert.equal(third.status, 200);
    const reuse = await refresh(idp, first);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body['error'], 'invalid_grant');
    assert.equal((await refresh(idp, String(third.body['refresh_token']))).status, 400, 'the newest token is revoked too');
  });
});

describe('with the reuse interval off', () => {
  let idp: InProcessIdp;
  before(async () => { idp = await startIdpInProcess({ IDP_REFRESH_TOKEN_REUSE_INTERVAL: '0' }); });
  after(async () => idp.close());

  test('any retry with a rotated token revokes the whole login', async () => {
    const first = await signedIn(idp);
    const lost = await refresh(idp, first);
    assert.equal(lost.status, 200);
    assert.equal((await refresh(idp, first)).status, 400);
    assert.equal((await refresh(idp, String(lost.body['refresh_token']))).status, 400);
  });

  // Without the interval, a token consumed by a refused request would read as reused at its next use.
  test('a refresh request refused for its resource leaves the token usable and the grant intact', async () => {
    const token = await signedIn(idp);
    const logsBefore = idp.logs.length;
    for (const resource of ['https://evil.example', [API_AUDIENCE, 'https://evil.example']]) {
      const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: token });
      for (const r of [resource].flat()) body.append('resource', r);
      const res = await fetch(new URL('/oauth/token', idp.issuer), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_target');
    }
    const normal = await refresh(idp, token);
    assert.equal(normal.status, 200, JSON.stringify(normal.body));
    assert.equal((await refresh(idp, String(normal.body['refresh_token']))).status, 200, 'no grant was revoked');
    assert.ok(!idp.logs.slice(logsBefore).some((l) => l.includes('"replay_detected"')));
  });

  test('a refresh naming the granted resource still works', async () => {
    const token = await signedIn(idp);
    const res = await refresh(idp, token, { resource: API_AUDIENCE });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});
