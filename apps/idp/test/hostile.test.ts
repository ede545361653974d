// Attacks on the authorization server, each asserting its outcome.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import {
  API_AUDIENCE, DEV_API_SECRET, SPA_REDIRECT_URI, SPA_SCOPE, authorizationRequest, authorizeWithLogin, followIdpRedirects,
  login, rpConfig, tokenRequest, userAgent,
} from '../../../tests/support/oidc-rp.ts';

let idp: InProcessIdp;
let spa: oidc.Configuration;
let api: oidc.Configuration;
let swagger: oidc.Configuration;

let otherSpa: oidc.Configuration;

/** The folder of the clients file written below: removed after the tests. */
let clientsDir: string | undefined;

/** The registered clients plus a second public SPA client that may use refresh tokens too. */
function clientsWithSecondSpa(): string {
  const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'clients.json'), 'utf8'));
  doc.clients.push({ ...doc.clients.find((c: { client_id: string }) => c.client_id === 'spa'), client_id: 'other-spa', redirect_uris: ['http://localhost:4300'], post_logout_redirect_uris: [] });
  clientsDir = mkdtempSync(join(tmpdir(), 'idp-clients-'));
  const file = join(clientsDir, 'clients.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

before(async () => {
  idp = await startIdpInProcess({ IDP_CLIENTS_FILE: clientsWithSecondSpa() });
  otherSpa = await rpConfig(idp.issuer, 'other-spa');
  spa = await rpConfig(idp.issuer, 'spa');
  api = await rpConfig(idp.issuer, 'api', DEV_API_SECRET);
  swagger = await rpConfig(idp.issuer, 'swagger');
});
after(async () => {
  await idp.close();
  if (clientsDir) rmSync(clientsDir, { recursive: true, force: true });
});

/** A code for alice, not yet redeemed, with the verifier that goes with it. */
async function freshCode(extra: Record<string, string> = {}) {
  const req = await authorizationRequest(spa, extra);
  const callback = await authorizeWithLogin(userAgent(), spa, req, 'alice', 'demo-alice');
  return { code: callback.searchParams.get('code')!, verifier: req.verifier };
}

const redeem = (code: string, verifier: string | undefined, redirectUri = SPA_REDIRECT_URI) =>
  tokenRequest(idp.issuer, { grant_type: 'authorization_code', client_id: 'spa', code, redirect_uri: redirectUri, ...(verifier ? { code_verifier: verifier } : {}) });

describe('authorization codes', () => {
  test('a replayed code fails, and the tokens of its first use are revoked', async () => {
    const { code, verifier } = await freshCode();
    const first = await redeem(code, verifier);
    assert.equal(first.status, 200);
    const second = await redeem(code, verifier);
    assert.equal(second.status, 400);
    assert.equal(second.body['error'], 'invalid_grant');
    const refresh = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(first.body['refresh_token']) });
    assert.equal(refresh.status, 400, 'the refresh token from the first redemption is dead');
  });

  test('of five parallel redemptions of one code exactly one wins', async () => {
    const { code, verifier } = await freshCode();
    const results = await Promise.all(Array.from({ length: 5 }, () => redeem(code, verifier)));
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    for (const loser of results.filter((r) => r.status !== 200)) assert.equal(loser.body['error'], 'invalid_grant');
  });

  test('a code redeemed by another client is refused', async () => {
    const { code, verifier } = await freshCode();
    const res = await tokenRequest(idp.issuer, { grant_type: 'authorization_code', client_id: 'swagger', code, redirect_uri: SPA_REDIRECT_URI, code_verifier: verifier });
    assert.equal(res.status, 400);
    assert.equal(res.body['error'], 'invalid_grant');
    assert.equal((await redeem(code, verifier)).status, 200, 'the rightful client can still redeem it');
  });
});

describe('PKCE', () => {
  test('an authorization request without code_challenge is refused', async () => {
    const url = new URL(`${idp.issuer}/authorize`);
    url.search = new URLSearchParams({ client_id: 'spa', response_type: 'code', redirect_uri: SPA_REDIRECT_URI, scope: SPA_SCOPE, audience: API_AUDIENCE, state: 's' }).toString();
    const res = await userAgent().request(url);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin, SPA_REDIRECT_URI);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description')!, /PKCE/);
  });

  test('code_challenge_method=plain is refused', async () => {
    const url = new URL(`${idp.issuer}/authorize`);
    url.search = new URLSearchParams({ client_id: 'spa', response_type: 'code', redirect_uri: SPA_REDIRECT_URI, scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }).toString();
    const res = await userAgent().request(url);
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
  });

  test('a missing or wrong code_verifier is refused', async () => {
    const { code, verifier } = await freshCode();
    const missing = await redeem(code, undefined);
    assert.equal(missing.status, 400);
    assert.equal(missing.body['error'], 'invalid_grant');
    const { code: code2 } = await freshCode();
    const wrong = await redeem(code2, oidc.randomPKCECodeVerifier());
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body['error'], 'invalid_grant');
    assert.ok(verifier);
  });

  test('a confidential client must use PKCE too', async () => {
    const url = new URL(`${idp.issuer}/authorize`);
    url.search = new URLSearchParams({ client_id: 'swagger', response_type: 'code', redirect_uri: 'http://localhost:5001/swagger/oauth2-redirect.html', scope: 'openid' }).toString();
    const location = new URL((await userAgent().request(url)).headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
  });
});

describe('redirect URIs are matched exactly', () => {
  const variants = [
    'http://localhost:4200/',
    'http://localhost:4200/callback',
    'http://localhost:4200?x=1',
    'http://localhost:4200#frag',
    'http://localhost:4201',
    'http://127.0.0.1:4200',
    'http://LOCALHOST:4200',
    'HTTP://localhost:4200',
    'http://localhost:4200/%2e%2e/',
    'http://localhost:4200/..%2f..%2fevil',
    'http://localhost:4200@evil.example',
    'https://localhost:4200',
  ];
  for (const redirectUri of variants) {
    test(`${redirectUri} is refused without a redirect`, async () => {
      const { url } = await authorizationRequest(spa, { redirect_uri: redirectUri });
      const res = await userAgent().request(url);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /redirect_uri/);
    });
  }
});

describe('refresh tokens across clients', () => {
  test('client B cannot use client A\'s refresh token, and A\'s token keeps working', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const stolen = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'other-spa', refresh_token: tokens.refresh_token! });
    assert.equal(stolen.status, 400);
    assert.equal(stolen.body['error'], 'invalid_grant');
    const noGrant = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'swagger', refresh_token: tokens.refresh_token! });
    assert.equal(noGrant.status, 400);
    const viaApi = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, ['api', DEV_API_SECRET]);
    assert.equal(viaApi.status, 400);
    const mine = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);
    assert.ok(mine.access_token);
  });

  test('client B cannot revoke client A\'s refresh token, and A\'s token keeps working', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    await oidc.tokenRevocation(otherSpa, tokens.refresh_token!).catch(() => undefined);
    await oidc.tokenRevocation(swagger, tokens.refresh_token!).catch(() => undefined);
    await oidc.tokenRevocation(api, tokens.refresh_token!).catch(() => undefined);
    const mine = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);
    assert.ok(mine.access_token);
  });
});

describe('introspection', () => {
  test('only the api client may introspect: a public client is 401 invalid_client, whatever the token', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    for (const config of [spa, swagger]) {
      for (const token of [tokens.access_token, tokens.refresh_token!, 'not-a-token']) {
        const res = await fetch(`${idp.issuer}/oauth/introspect`, {
          method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token, client_id: config.clientMetadata().client_id }).toString(),
        });
        const body = (await res.json()) as Record<string, unknown>;
        const what = `${config.clientMetadata().client_id}: ${res.status} ${JSON.stringify(body)}`;
        assert.equal(res.status, 401, what);
        assert.equal(body['error'], 'invalid_client', what);
        assert.equal(body['active'], undefined, what);
        assert.equal(res.headers.get('cache-control'), 'no-store', what);
      }
    }
    const wrongSecret = await fetch(`${idp.issuer}/oauth/introspect`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('api:wrong-secret-value').toString('base64')}` },
      body: new URLSearchParams({ token: tokens.refresh_token! }).toString(),
    });
    assert.equal(wrongSecret.status, 401);
  });

  test('the api client learns nothing about refresh tokens (not API tokens)', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const result = await oidc.tokenIntrospection(api, tokens.refresh_token!);
    assert.equal(result.active, false);
  });
});

describe('login page', () => {
  test('refuses to be framed and is not cached', async () => {
    const { url } = await authorizationRequest(spa);
    const page = await followIdpRedirects(userAgent(), idp.issuer, url);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('cache-control'), 'no-store');
  });

  test('unknown user and wrong password give the same page', async () => {
    const attempt = async (username: string) => {
      const ua = userAgent();
      const { url } = await authorizationRequest(spa);
      const page = await followIdpRedirects(ua, idp.issuer, url);
      const html = await page.text();
      const action = /action="([^"]+\/login)"/.exec(html)![1]!;
      const res = await ua.request(new URL(action, idp.issuer), {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password: 'not-the-password' }).toString(),
      });
      return { status: res.status, body: (await res.text()).replace(/\/interaction\/[^/"]+/g, '/interaction/UID').replace(new RegExp(`value="${username}"`), 'value="USER"') };
    };
    const unknown = await attempt('mallory-unknown');
    const wrong = await attempt('bob');
    assert.equal(unknown.status, wrong.status);
    assert.equal(unknown.body, wrong.body);
    assert.match(wrong.body, /Wrong username or password/);
  });
});

describe('login form input', () => {
  test('an oversized or non-form body is refused before it is parsed', async () => {
    const ua = userAgent();
    const page = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
    const action = new URL(/action="([^"]+\/login)"/.exec(await page.text())![1]!, idp.issuer);
    const big = await ua.request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=alice&password=${'x'.repeat(20_000)}` });
    assert.equal(big.status, 413);
    const json = await ua.request(action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"alice","password":"demo-alice"}' });
    assert.equal(json.status, 415);
    const empty = await ua.request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=alice' });
    assert.equal(empty.status, 400);
  });

  test('an unknown interaction id shows an error page, never a 500', async () => {
    const res = await userAgent().request(`${idp.issuer}/interaction/does-not-exist`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /expired or is not valid/);
  });
});

describe('the authorization endpoint', () => {
  test('answers no CORS request, and the token endpoint only registered origins', async () => {
    const auth = await fetch(`${idp.issuer}/authorize?client_id=spa`, { headers: { origin: 'http://localhost:4200' }, redirect: 'manual' });
    assert.equal(auth.headers.get('access-control-allow-origin'), null);
    const preflight = (origin: string) => fetch(`${idp.issuer}/oauth/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const evil = await fetch(`${idp.issuer}/oauth/token`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x&client_id=spa' });
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const good = await fetch(`${idp.issuer}/oauth/token`, { method: 'POST', headers: { origin: 'http://localhost:4200', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x&client_id=spa' });
    assert.equal(good.headers.get('access-control-allow-origin'), 'http://localhost:4200');
    assert.ok((await preflight('http://localhost:4200')).ok);
  });

  test('implicit and hybrid response types are refused', async () => {
    for (const responseType of ['token', 'id_token', 'code id_token', 'code token']) {
      const { url } = await authorizationRequest(spa, { response_type: responseType, nonce: 'n' });
      const res = await userAgent().request(url);
      const location = res.headers.get('location');
      assert.ok(location, `${responseType}: ${res.status}`);
      assert.equal(new URL(location).searchParams.get('error') ?? new URLSearchParams(new URL(location).hash.slice(1)).get('error'), 'unsupported_response_type');
    }
  });
});
