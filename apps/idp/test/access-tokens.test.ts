// Access tokens as Auth0 issues them, and what relying parties do with them at the IdP: the token
// response's scope, both JWT profiles, userinfo with the API's token, introspection and revocation
// of JWTs, refreshed ID tokens without nonce.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { withIdpInProcess, startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { ManualClock } from '../../../tests/support/manual-clock.ts';
import {
  API_AUDIENCE, API_SCOPE, DEV_API_SECRET, SPA_SCOPE, authorizationRequest, authorizeWithLogin, decodeJwt, login, rpConfig, tokenRequest, userAgent,
} from '../../../tests/support/oidc-rp.ts';

const clock = new ManualClock();
let idp: InProcessIdp;
let spa: oidc.Configuration;
let api: oidc.Configuration;

before(async () => {
  idp = await startIdpInProcess({}, { clock });
  spa = await rpConfig(idp.issuer, 'spa');
  api = await rpConfig(idp.issuer, 'api', DEV_API_SECRET);
});
after(async () => idp.close());

const scopes = (scope: unknown) => new Set(String(scope).split(' '));
const EVERY_SCOPE = scopes(SPA_SCOPE);

/** The same token with one claim changed and the original signature. */
function tampered(jwt: string, claims: Record<string, unknown>): string {
  const [h, p, s] = jwt.split('.');
  const payload = { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), ...claims };
  return [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
}

async function userinfoStatus(accessToken: string): Promise<number> {
  const res = await fetch(`${idp.issuer}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  return res.status;
}

describe('token response', () => {
  test('lists every granted scope on the code exchange and on refresh', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    assert.deepEqual(scopes(tokens.scope), EVERY_SCOPE);
    const refreshed = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);
    assert.deepEqual(scopes(refreshed.scope), EVERY_SCOPE);
    // A client that echoes the response's scope on refresh (oidc-client-ts does) still gets an ID token.
    const echoed = await oidc.refreshTokenGrant(spa, refreshed.refresh_token!, { scope: refreshed.scope! });
    assert.ok(echoed.id_token);
    assert.deepEqual(scopes(echoed.scope), EVERY_SCOPE);
  });

  test("bob's response lists the OpenID scopes only: the API scope was not granted", async () => {
    const { tokens } = await login(spa, 'bob', 'demo-bob');
    assert.deepEqual(scopes(tokens.scope), new Set(['openid', 'profile', 'offline_access']));
  });

  test('a refreshed ID token carries no nonce (OpenID Connect Core 12.2)', async () => {
    const nonce = oidc.randomNonce();
    const req = await authorizationRequest(spa, { nonce });
    const callback = await authorizeWithLogin(userAgent(), spa, req, 'alice', 'demo-alice');
    const tokens = await oidc.authorizationCodeGrant(spa, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: nonce });
    assert.equal(tokens.claims()!['nonce'], nonce);
    const refreshed = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);
    assert.ok(refreshed.id_token);
    assert.equal(decodeJwt(refreshed.id_token).payload['nonce'], undefined);
    assert.equal(refreshed.claims()!.sub, 'auth0|alice');
  });
});

describe('access-token profiles', () => {
  test('rfc9068 (the default): typ at+jwt, client_id, jti, aud with the userinfo endpoint, every granted scope', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const { header, payload } = decodeJwt(tokens.access_token);
    assert.equal(header['typ'], 'at+jwt');
    assert.equal(payload['client_id'], 'spa');
    assert.equal(typeof payload['jti'], 'string');
    assert.equal(payload['azp'], undefined);
    assert.deepEqual(payload['aud'], [API_AUDIENCE, `${idp.issuer}/userinfo`]);
    assert.deepEqual(scopes(payload['scope']), EVERY_SCOPE);
  });

  test('auth0 (IDP_ACCESS_TOKEN_PROFILE): typ JWT, azp, no client_id or jti; userinfo and introspection still work', async () => {
    await withIdpInProcess({ IDP_ACCESS_TOKEN_PROFILE: 'auth0' }, {}, async (other) => {
      const otherSpa = await rpConfig(other.issuer, 'spa');
      const { tokens } = await login(otherSpa, 'alice', 'demo-alice');
      const { header, payload } = decodeJwt(tokens.access_token);
      assert.equal(header['typ'], 'JWT');
      assert.equal(payload['azp'], 'spa');
      assert.equal(payload['client_id'], undefined);
      assert.equal(payload['jti'], undefined);
      assert.deepEqual(payload['aud'], [API_AUDIENCE, `${other.issuer}/userinfo`]);
      assert.deepEqual(scopes(payload['scope']), EVERY_SCOPE);
      const info = await oidc.fetchUserInfo(otherSpa, tokens.access_token, 'auth0|alice');
      assert.equal(info['name'], 'Alice Example');
      const otherApi = await rpConfig(other.issuer, 'api', DEV_API_SECRET);
      assert.equal((await oidc.tokenIntrospection(otherApi, tokens.access_token)).active, true);
    });
  });

  test("a resource's token_profile in the clients file overrides the global profile", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clients-'));
    try {
      const file = join(dir, 'clients.json');
      const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'clients.json'), 'utf8'));
      doc.resources[0].token_profile = 'auth0';
      writeFileSync(file, JSON.stringify(doc));
      await withIdpInProcess({ IDP_CLIENTS_FILE: file, IDP_ACCESS_TOKEN_PROFILE: 'rfc9068' }, {}, async (other) => {
        const { tokens } = await login(await rpConfig(other.issuer, 'spa'), 'alice', 'demo-alice');
        assert.equal(decodeJwt(tokens.access_token).header['typ'], 'JWT');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('userinfo with the API access token', () => {
  test('answers the user claims for the token of an OpenID login', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const info = await oidc.fetchUserInfo(spa, tokens.access_token, 'auth0|alice');
    assert.equal(info['name'], 'Alice Example');
  });

  test('refuses a tampered token, an ID token, and the token of a revoked grant', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    assert.equal(await userinfoStatus(tampered(tokens.access_token, { sub: 'auth0|bob' })), 401);
    assert.equal(await userinfoStatus(tokens.id_token!), 401);
    await oidc.tokenRevocation(spa, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    assert.equal(await userinfoStatus(tokens.access_token), 401);
  });

  test('refuses the token of a login that was not an OpenID request', async () => {
    const req = await authorizationRequest(spa, { scope: API_SCOPE });
    const callback = await authorizeWithLogin(userAgent(), spa, req, 'alice', 'demo-alice');
    const tokens = await oidc.authorizationCodeGrant(spa, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state });
    assert.deepEqual(decodeJwt(tokens.access_token).payload['aud'], [API_AUDIENCE]);
    assert.notEqual(await userinfoStatus(tokens.access_token), 200);
  });
});

describe('introspection of JWT access tokens', () => {
  test('active for the api client, with the token claims', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const result = await oidc.tokenIntrospection(api, tokens.access_token);
    assert.equal(result.active, true);
    assert.equal(result.sub, 'auth0|alice');
    assert.equal(result.client_id, 'spa');
    assert.deepEqual(result.aud, [API_AUDIENCE, `${idp.issuer}/userinfo`]);
    assert.equal(result.exp, decodeJwt(tokens.access_token).payload['exp']);
  });

  test('inactive once the grant is revoked, and after the token expired', async () => {
    const revoked = await login(spa, 'alice', 'demo-alice');
    await oidc.tokenRevocation(spa, revoked.tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    assert.equal((await oidc.tokenIntrospection(api, revoked.tokens.access_token)).active, false);

    const expiring = await login(spa, 'alice', 'demo-alice');
    assert.equal((await oidc.tokenIntrospection(api, expiring.tokens.access_token)).active, true);
    const step = (Number(decodeJwt(expiring.tokens.access_token).payload['exp']) + 1) * 1000 - clock.now();
    clock.advance(step);
    try {
      assert.equal((await oidc.tokenIntrospection(api, expiring.tokens.access_token)).active, false);
    } finally {
      clock.advance(-step);
    }
  });

  test('inactive for a tampered token or an ID token; nothing for a client not allowed to introspect', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    assert.equal((await oidc.tokenIntrospection(api, tampered(tokens.access_token, { scope: 'admin' }))).active, false);
    assert.equal((await oidc.tokenIntrospection(api, tokens.id_token!)).active, false);
    const bySpa = await fetch(`${idp.issuer}/oauth/introspect`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: 'spa' }).toString(),
    });
    const body = (await bySpa.json()) as Record<string, unknown>;
    assert.notEqual(body['active'], true, `${bySpa.status} ${JSON.stringify(body)}`);
  });

  test('the bare record key of a token is not accepted as an opaque token', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const { createHash } = await import('node:crypto');
    const key = createHash('sha256').update(tokens.access_token).digest('base64url');
    assert.equal((await oidc.tokenIntrospection(api, key)).active, false);
    assert.equal(await userinfoStatus(key), 401);
  });
});

describe('revocation of a JWT access token', () => {
  test('answers 200 and ends the grant, as for any token of it (oidc-provider): no usable refresh token is left', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const res = await fetch(`${idp.issuer}/oauth/revoke`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, token_type_hint: 'access_token', client_id: 'spa' }).toString(),
    });
    assert.equal(res.status, 200);
    assert.equal((await oidc.tokenIntrospection(api, tokens.access_token)).active, false);
    assert.equal(await userinfoStatus(tokens.access_token), 401);
    const refresh = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
    assert.equal(refresh.status, 400);
  });

  test("another client cannot revoke the spa's access token", async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const swagger = await fetch(`${idp.issuer}/oauth/revoke`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: 'swagger' }).toString(),
    });
    assert.equal(swagger.status, 200);
    assert.equal((await oidc.tokenIntrospection(api, tokens.access_token)).active, true);
  });
});
