// Signing-key rotation, ES256, opaque access tokens with introspection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oidc from 'openid-client';
import { waitForLine, withIdp } from '../../../tests/support/idp-process.ts';
import { API_AUDIENCE, API_SCOPE, DEV_API_SECRET, decodeJwt, login, rpConfig } from '../../../tests/support/oidc-rp.ts';

const jwksKids = async (base: string) => ((await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; alg: string }> }).keys;

test('rotate-keys publishes a new key at once and signs with it only from its activation; --now switches at once', async () => {
  await withIdp({ IDP_KEY_RELOAD_INTERVAL: '1', IDP_KEY_ACTIVATION_DELAY: '3600' }, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const before = await login(spa, 'alice', 'demo-alice');
    const oldKid = decodeJwt(before.tokens.access_token).header['kid'];
    const rotate = (...args: string[]) => {
      const out = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'src', 'cli', 'rotate-keys.ts'), ...args], { env: { ...process.env, ...idp.env }, encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      const kid = /New RS256 signing key (\S+),/.exec(out.stdout)?.[1];
      assert.ok(kid && kid !== oldKid, out.stdout);
      return kid;
    };
    const pendingKid = rotate();
    for (let i = 0; i < 600 && !(await jwksKids(idp.base)).some((k) => k.kid === pendingKid); i++) await sleep(100);
    assert.deepEqual((await jwksKids(idp.base)).map((k) => k.kid), [oldKid, pendingKid], 'published, not yet signing');
    // Picked up without a restart. The line comes on the IdP's stdout, the JWKS on a socket: either may be read first.
    await waitForLine(idp.logs, (l) => l.includes('"signing_keys_reloaded"'), 'signing_keys_reloaded line');
    const meanwhile = await oidc.refreshTokenGrant(spa, before.tokens.refresh_token!);
    assert.equal(decodeJwt(meanwhile.access_token).header['kid'], oldKid, 'the old key signs until the new one activates');

    const urgentKid = rotate('--now');
    for (let i = 0; i < 600 && (await jwksKids(idp.base))[0]?.kid !== urgentKid; i++) await sleep(100);
    assert.deepEqual((await jwksKids(idp.base)).map((k) => k.kid).sort(), [oldKid, pendingKid, urgentKid].sort());
    const after = await oidc.refreshTokenGrant(spa, meanwhile.refresh_token!);
    assert.equal(decodeJwt(after.access_token).header['kid'], urgentKid);
  });
});

test('IDP_SIGNING_ALG=ES256 signs ID and access tokens with a P-256 key', async () => {
  await withIdp({ IDP_SIGNING_ALG: 'ES256' }, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    assert.equal(decodeJwt(tokens.access_token).header['alg'], 'ES256');
    assert.equal(decodeJwt(tokens.id_token!).header['alg'], 'ES256');
    assert.deepEqual((await jwksKids(idp.base)).map((k) => k.alg), ['ES256']);
  });
});

test('opaque access tokens are introspected by the api client', async () => {
  await withIdp({ IDP_ACCESS_TOKEN_FORMAT: 'opaque' }, async (idp) => {
    const spa = await rpConfig(idp.issuer, 'spa');
    const api = await rpConfig(idp.issuer, 'api', DEV_API_SECRET);
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    assert.equal(tokens.access_token.split('.').length, 1, 'not a JWT');
    const info = await oidc.tokenIntrospection(api, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.sub, 'auth0|alice');
    assert.equal(info.client_id, 'spa');
    assert.equal(info.scope, API_SCOPE);
    assert.ok([info.aud].flat().includes(API_AUDIENCE));
    assert.equal(info.token_type, 'Bearer');

    const bob = await login(spa, 'bob', 'demo-bob');
    const bobInfo = await oidc.tokenIntrospection(api, bob.tokens.access_token);
    assert.equal(bobInfo.active, true);
    assert.ok(!String(bobInfo.scope ?? '').split(' ').includes(API_SCOPE));

    // Revoking the refresh token ends the grant, and the opaque access token with it.
    await oidc.tokenRevocation(spa, tokens.refresh_token!);
    assert.equal((await oidc.tokenIntrospection(api, tokens.access_token)).active, false);
  });
});
