// Auth0's issuer form, with the trailing slash (http://localhost:PORT/), end to end: discovery,
// every token's iss, the userinfo audience, introspection, both logouts, and the API validating
// the tokens against that exact issuer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { buildApi } from '../apps/api/src/app.ts';
import { fetchIssuerMetadata } from '../apps/api/src/authority.ts';
import { readApiConfig } from '../apps/api/src/config.ts';
import { startIdpInProcess, type InProcessIdp } from './support/idp-in-process.ts';
import { API_AUDIENCE, DEV_API_SECRET, SPA_REDIRECT_URI, decodeJwt, followIdpRedirects, login, rpConfig } from './support/oidc-rp.ts';

let idp: InProcessIdp;
let origin: string;
let spa: oidc.Configuration;

before(async () => {
  idp = await startIdpInProcess((port) => ({ IDP_ISSUER: `http://localhost:${port}/` }));
  origin = new URL(idp.issuer).origin;
  spa = await rpConfig(idp.issuer, 'spa');
});
after(async () => idp.close());

describe('issuer with a trailing slash', () => {
  test('discovery names it exactly, and every endpoint without a doubled slash', async () => {
    assert.equal(idp.issuer, `${origin}/`);
    const doc = (await (await fetch(`${origin}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    assert.equal(doc['issuer'], `${origin}/`);
    assert.equal(doc['authorization_endpoint'], `${origin}/authorize`);
    assert.equal(doc['token_endpoint'], `${origin}/oauth/token`);
    assert.equal(doc['jwks_uri'], `${origin}/.well-known/jwks.json`);
    assert.equal(doc['userinfo_endpoint'], `${origin}/userinfo`);
    assert.equal(doc['end_session_endpoint'], `${origin}/oidc/logout`);
  });

  test("every token's iss is the issuer exactly; the userinfo audience is the endpoint's URL", async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    assert.equal(tokens.claims()!.iss, `${origin}/`);
    const at = decodeJwt(tokens.access_token).payload;
    assert.equal(at['iss'], `${origin}/`);
    assert.deepEqual(at['aud'], [API_AUDIENCE, `${origin}/userinfo`]);
    const refreshed = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);
    assert.equal(refreshed.claims()!.iss, `${origin}/`);
    assert.equal((await oidc.fetchUserInfo(spa, refreshed.access_token, 'auth0|alice'))['name'], 'Alice Example');
    const api = await rpConfig(idp.issuer, 'api', DEV_API_SECRET);
    assert.equal((await oidc.tokenIntrospection(api, refreshed.access_token)).active, true);
  });

  test('the API configured with this issuer accepts its tokens; the issuer without the slash is refused at discovery', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const dir = mkdtempSync(join(tmpdir(), 'api-slash-'));
    const api = buildApi(readApiConfig({ AUTH_AUTHORITY: `${origin}/`, API_DATA_DIR: dir }), { logger: false });
    try {
      await api.authority.start();
      const res = await api.app.inject({ url: '/api/UserOne', headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(res.statusCode, 200, res.body);
    } finally {
      await api.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
    await assert.rejects(fetchIssuerMetadata(origin), /issuer "http:\/\/localhost:\d+\/" is not "http:\/\/localhost:\d+"/);
  });

  test('end session with a hint of this session, and /v2/logout, work as with the default issuer', async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const url = oidc.buildEndSessionUrl(spa, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SPA_REDIRECT_URI });
    assert.match(await (await followIdpRedirects(ua, idp.issuer, url)).text(), /data-auto-submit/);
    const v2 = await ua.request(`${origin}/v2/logout?client_id=spa&returnTo=${encodeURIComponent(SPA_REDIRECT_URI)}`);
    assert.equal(v2.status, 302);
    assert.equal(v2.headers.get('location'), SPA_REDIRECT_URI);
  });
});
