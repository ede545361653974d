// The API against the real identity provider (a child process): tokens from an actual login are
// accepted, bob's are refused with 403, ID and refresh tokens are not access tokens, reference
// tokens are introspected as the api client, and key rotation and an IdP outage change nothing
// for valid tokens.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oidc from 'openid-client';
import { startIdp, type IdpProcess } from '../../../tests/support/idp-process.ts';
import { API_SCOPE, decodeJwt, login, rpConfig } from '../../../tests/support/oidc-rp.ts';
import { buildApi, type Api } from '../src/app.ts';
import { readApiConfig } from '../src/config.ts';

const INVALID = 'Bearer error="invalid_token", error_description="The access token is invalid."';

async function apiFor(issuer: string, env: Record<string, string> = {}): Promise<Api & { dispose(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'api-idp-test-'));
  // API_CLIENT_SECRET stays at its default: the embedded IdP's development secret of the api client.
  const api = buildApi(readApiConfig({ AUTH_AUTHORITY: issuer, API_DATA_DIR: dir, ...env }), { logger: false });
  await api.authority.start();
  return { ...api, async dispose() { await api.app.close(); rmSync(dir, { recursive: true, force: true }); } };
}

const get = (api: Api, token: string, url = '/api/UserOne') => api.app.inject({ url, headers: { authorization: `Bearer ${token}` } });

describe('JWT access tokens from the IdP', () => {
  let idp: IdpProcess;
  let api: Awaited<ReturnType<typeof apiFor>>;
  let alice: oidc.TokenEndpointResponse;
  let bob: oidc.TokenEndpointResponse;

  before(async () => {
    // A rotated-in key signs once the IdP reloaded and this API (cooldown 0) may refetch: 2 s.
    idp = await startIdp({ IDP_KEY_RELOAD_INTERVAL: '1', IDP_KEY_ACTIVATION_DELAY: '2' });
    api = await apiFor(idp.issuer, { AUTH_JWKS_COOLDOWN: '0' });
    const spa = await rpConfig(idp.issuer, 'spa');
    alice = (await login(spa, 'alice', 'demo-alice')).tokens;
    bob = (await login(spa, 'bob', 'demo-bob')).tokens;
  });
  after(async () => {
    await api?.dispose();
    await idp?.dispose();
  });

  test('alice\'s access token: 200 ["user one data"], and her notes are hers', async () => {
    const { header } = decodeJwt(alice.access_token);
    assert.equal(header['typ'], 'at+jwt');
    const res = await get(api, alice.access_token);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), ['user one data']);
    const created = await api.app.inject({ method: 'POST', url: '/api/notes', headers: { authorization: `Bearer ${alice.access_token}` }, payload: { text: 'from the real IdP' } });
    assert.equal(created.statusCode, 201);
    assert.deepEqual((await get(api, alice.access_token, '/api/notes')).json().map((n: { text: string }) => n.text), ['from the real IdP']);
  });

  test('bob signs in but has no API scope: 403 insufficient_scope', async () => {
    const res = await get(api, bob.access_token);
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers['www-authenticate'], `Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="${API_SCOPE}"`);
  });

  test('the ID token and the refresh token are not access tokens', async () => {
    for (const token of [alice.id_token!, alice.refresh_token!]) {
      const res = await get(api, token);
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], INVALID);
    }
  });

  test('a rotated signing key is picked up without a restart; tokens of the previous key stay valid', async () => {
    const oldKid = decodeJwt(alice.access_token).header['kid'];
    const out = spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'idp', 'src', 'cli', 'rotate-keys.ts')], { env: { ...process.env, ...idp.env }, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const spa = await rpConfig(idp.issuer, 'spa');
    // The new key signs 2 s after the rotation, picked up at the next reload; log in until it does.
    let fresh = (await login(spa, 'alice', 'demo-alice')).tokens.access_token;
    // A hang bound only (it was 50 tries, about 10 s): the IdP's reload timer and logins are real work.
    for (const deadline = Date.now() + 60_000; decodeJwt(fresh).header['kid'] === oldKid && Date.now() < deadline;) {
      await sleep(200);
      fresh = (await login(spa, 'alice', 'demo-alice')).tokens.access_token;
    }
    assert.notEqual(decodeJwt(fresh).header['kid'], oldKid, 'the IdP signs with the new key');
    const fetches = api.authority.jwks!.fetchCount;
    assert.equal((await get(api, fresh)).statusCode, 200, 'new key: picked up');
    assert.equal(api.authority.jwks!.fetchCount, fetches + 1, 'by one JWKS refetch');
    assert.equal(api.authority.jwks!.size, 2, 'the previous key is still published');
    assert.equal((await get(api, alice.access_token)).statusCode, 200, 'a token of the previous key');
  });

  test('IdP down: tokens keep validating with the keys held (verified-token cache off)', async () => {
    const uncached = await apiFor(idp.issuer, { AUTH_TOKEN_CACHE_SIZE: '0' });
    try {
      const token = (await login(await rpConfig(idp.issuer, 'spa'), 'alice', 'demo-alice')).tokens.access_token;
      assert.equal((await get(uncached, token)).statusCode, 200);
      await idp.stop('SIGKILL');
      for (let i = 0; i < 3; i++) assert.equal((await get(uncached, token)).statusCode, 200);
      assert.equal((await uncached.app.inject({ url: '/readyz' })).statusCode, 200);
    } finally {
      await uncached.dispose();
      await idp.restart('SIGKILL');
    }
  });
});

describe('reference tokens from the IdP (IDP_ACCESS_TOKEN_FORMAT=opaque)', () => {
  let idp: IdpProcess;
  let api: Awaited<ReturnType<typeof apiFor>>;

  before(async () => {
    idp = await startIdp({ IDP_ACCESS_TOKEN_FORMAT: 'opaque' });
    api = await apiFor(idp.issuer);
  });
  after(async () => {
    await api?.dispose();
    await idp?.dispose();
  });

  test('alice\'s opaque token is introspected as the api client and accepted; bob\'s gets 403', async () => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const alice = (await login(spa, 'alice', 'demo-alice')).tokens;
    assert.equal(alice.access_token.includes('.'), false);
    const res = await get(api, alice.access_token);
    assert.equal(res.statusCode, 200);
    assert.equal(api.introspector.calls, 1);
    assert.equal((await get(api, alice.access_token)).statusCode, 200);
    assert.equal(api.introspector.calls, 1, 'cached');
    const bob = (await login(spa, 'bob', 'demo-bob')).tokens;
    assert.equal((await get(api, bob.access_token)).statusCode, 403);
  });

  test('a refresh token sent as bearer is refused', async () => {
    const alice = (await login(await rpConfig(idp.issuer, 'spa'), 'alice', 'demo-alice')).tokens;
    const res = await get(api, alice.refresh_token!);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], INVALID);
  });

  test('a revoked grant: the opaque token dies once the introspection cache bound has passed', async () => {
    const fast = await apiFor(idp.issuer, { AUTH_INTROSPECTION_CACHE_TTL: '0' });
    try {
      const spa = await rpConfig(idp.issuer, 'spa');
      const alice = (await login(spa, 'alice', 'demo-alice')).tokens;
      assert.equal((await get(fast, alice.access_token)).statusCode, 200);
      await oidc.tokenRevocation(spa, alice.refresh_token!);
      assert.equal((await get(fast, alice.access_token)).statusCode, 401);
    } finally {
      await fast.dispose();
    }
  });
});
