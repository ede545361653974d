// What clients with Auth0's behaviour built in rely on: Auth0's endpoint paths (listed in discovery
// for everyone else), Auth0's GET /v2/logout, and a discovery document that advertises only what is
// configured and tested.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { withIdpInProcess } from '../../../tests/support/idp-in-process.ts';
import { API_AUDIENCE, API_SCOPE, SPA_REDIRECT_URI, authorizationRequest, authorizeWithLogin, decodeJwt, followIdpRedirects, login, rpConfig, submitLogin, tokenRequest, userAgent } from '../../../tests/support/oidc-rp.ts';
import type { UserAgent } from '../../../tests/support/oidc-rp.ts';
import { idp, inProcessIdpWithSpa, spa } from '../../../tests/support/idp-with-spa.ts';

inProcessIdpWithSpa();

/** True when the browser still has an IdP session: a new authorization skips the login page. */
async function signedIn(ua: UserAgent): Promise<boolean> {
  const res = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
  if (res.status === 200 && /name="password"/.test(await res.text())) return false;
  assert.ok(res.headers.get('location')?.startsWith(SPA_REDIRECT_URI), `unexpected ${res.status}`);
  return true;
}

describe('discovery', () => {
  test("lists Auth0's endpoint paths", async () => {
    const doc = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(doc['authorization_endpoint'], `${idp.issuer}/authorize`);
    assert.equal(doc['token_endpoint'], `${idp.issuer}/oauth/token`);
    assert.equal(doc['revocation_endpoint'], `${idp.issuer}/oauth/revoke`);
    assert.equal(doc['introspection_endpoint'], `${idp.issuer}/oauth/introspect`);
    assert.equal(doc['userinfo_endpoint'], `${idp.issuer}/userinfo`);
    assert.equal(doc['jwks_uri'], `${idp.issuer}/.well-known/jwks.json`);
    assert.equal(doc['end_session_endpoint'], `${idp.issuer}/oidc/logout`);
    const jwks = (await (await fetch(String(doc['jwks_uri']))).json()) as { keys: unknown[] };
    assert.ok(jwks.keys.length > 0);
    for (const old of ['/auth', '/token', '/token/revocation', '/token/introspection', '/me', '/jwks', '/session/end']) {
      assert.equal((await fetch(`${idp.issuer}${old}`, { redirect: 'manual' })).status, 404, `${old} is gone`);
    }
  });

  test('advertises no pushed authorization requests and no DPoP, and serves neither', async () => {
    const doc = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(doc['pushed_authorization_request_endpoint'], undefined);
    assert.equal(doc['require_pushed_authorization_requests'], undefined);
    assert.equal(doc['dpop_signing_alg_values_supported'], undefined);
    assert.equal((await fetch(`${idp.issuer}/request`, { method: 'POST' })).status, 404);
  });

  test('lists the client authentication methods of the token, revocation and introspection endpoints', async () => {
    const doc = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.deepEqual(doc['token_endpoint_auth_methods_supported'], ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    assert.deepEqual(doc['revocation_endpoint_auth_methods_supported'], ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    assert.deepEqual(doc['introspection_endpoint_auth_methods_supported'], ['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
  });
});

describe("Auth0's GET /v2/logout", () => {
  const v2Logout = (params: Record<string, string>) => `${idp.issuer}/v2/logout?${new URLSearchParams(params)}`;

  test('ends the IdP session and redirects at once to a registered returnTo; the refresh token lives on', async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const res = await ua.request(v2Logout({ client_id: 'spa', returnTo: SPA_REDIRECT_URI }));
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), SPA_REDIRECT_URI);
    assert.equal(await signedIn(ua), false, 'the IdP session is over');
    assert.ok(idp.logs.some((l) => l.includes('"logout"') && l.includes('"v2_logout"')));
    // As Auth0's: no proof of the session was given, so no grant is revoked (the client revokes its own).
    const refresh = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
    assert.equal(refresh.status, 200);
  });

  test('an unregistered returnTo gets an error page, never a redirect, and the session stays', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    for (const returnTo of ['https://evil.example/', `${SPA_REDIRECT_URI}/`, `${SPA_REDIRECT_URI}.evil.example`, 'javascript:alert(1)']) {
      const res = await ua.request(v2Logout({ client_id: 'spa', returnTo }));
      assert.equal(res.status, 400, returnTo);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /returnTo is not a registered logout URL/);
    }
    // Another client's registered URL does not count either.
    const swagger = await ua.request(v2Logout({ client_id: 'swagger', returnTo: SPA_REDIRECT_URI }));
    assert.equal(swagger.status, 400);
    assert.equal(await signedIn(ua), true);
  });

  test('an unknown client_id, or a returnTo without client_id, gets an error page', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    const unknown = await ua.request(v2Logout({ client_id: 'nobody', returnTo: SPA_REDIRECT_URI }));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get('location'), null);
    assert.match(await unknown.text(), /Unknown client_id/);
    const bare = await ua.request(v2Logout({ returnTo: SPA_REDIRECT_URI }));
    assert.equal(bare.status, 400);
    assert.equal(bare.headers.get('location'), null);
    assert.equal(await signedIn(ua), true);
  });

  test('without returnTo it ends the session and shows the signed-out page', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    const res = await ua.request(v2Logout({ client_id: 'spa' }));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /You have been signed out/);
    assert.equal(await signedIn(ua), false);
  });
});

describe("JSON bodies at Auth0's token and revocation endpoints", () => {
  const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${idp.issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  test('a refresh at /oauth/token and a revocation at /oauth/revoke as JSON work as their forms do', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const refreshed = await postJson('/oauth/token', { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
    assert.equal(refreshed.status, 200);
    const next = (await refreshed.json()) as { refresh_token: string };
    const revoked = await postJson('/oauth/revoke', { client_id: 'spa', token: next.refresh_token });
    assert.equal(revoked.status, 200);
    const after = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: next.refresh_token });
    assert.equal(after.body['error'], 'invalid_grant', 'the JSON revocation took effect');
  });

  test('a JSON body gets every check a form gets: a wrong client secret is invalid_client', async () => {
    const res = await postJson('/oauth/token', { grant_type: 'refresh_token', client_id: 'bff', client_secret: 'not-the-secret-at-all', refresh_token: 'x' });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });

  test('a JSON body that is no object of strings, or too large, is invalid_request; other endpoints stay form-only', async () => {
    for (const body of ['{not json', '[]', '"text"', JSON.stringify({ grant_type: 'refresh_token', client_id: ['spa', 'bff'] }), JSON.stringify({ grant_type: 'refresh_token', client_id: { a: 1 } }), JSON.stringify({ client_id: 'spa', token: 'x'.repeat(60 * 1024) })]) {
      for (const path of ['/oauth/token', '/oauth/revoke']) {
        const res = await postJson(path, body);
        assert.equal(res.status, 400, `${path} ${body.slice(0, 40)}`);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
        assert.equal(res.headers.get('cache-control'), 'no-store');
      }
    }
    const introspect = await postJson('/oauth/introspect', { token: 'x' }, { authorization: `Basic ${Buffer.from('api:dev-api-secret-change-me').toString('base64')}` });
    assert.equal(introspect.status, 400);
    assert.match(((await introspect.json()) as { error_description: string }).error_description, /only application\/x-www-form-urlencoded/);
  });
});

describe('a silent login (prompt=none) asking for offline_access gets a refresh token, as from Auth0', () => {
  /** A prompt=none request in the browser `ua`, redeemed with openid-client. */
  async function silentLogin(ua: UserAgent, scope: string) {
    const req = await authorizationRequest(spa, { prompt: 'none', scope });
    const res = await ua.request(req.url);
    const location = res.headers.get('location') ?? '';
    assert.ok(location.startsWith(SPA_REDIRECT_URI), `a code for the client, not ${res.status} ${location}`);
    return oidc.authorizationCodeGrant(spa, new URL(location), { pkceCodeVerifier: req.verifier, expectedState: req.state });
  }

  test('once the login granted it to the client: a refresh token that works, in the login\'s grant', async () => {
    const { ua, tokens: first } = await login(spa, 'alice', 'demo-alice');
    const tokens = await silentLogin(ua, `openid profile offline_access ${API_SCOPE}`);
    assert.ok(tokens.refresh_token, 'a refresh token');
    assert.ok(tokens.scope?.split(' ').includes('offline_access'), 'offline_access granted');
    const refreshed = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token });
    assert.equal(refreshed.status, 200, 'the refresh token works');
    // One grant: revoking the login's refresh token ends the silent login's too.
    await oidc.tokenRevocation(spa, first.refresh_token!);
    const afterRevocation = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: String(refreshed.body['refresh_token']) });
    assert.equal(afterRevocation.body['error'], 'invalid_grant');
  });

  test('not when the login did not grant offline_access, nor when the silent request does not ask for it; the silent login still succeeds', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice', undefined, { scope: `openid profile ${API_SCOPE}` });
    const withoutGrant = await silentLogin(ua, `openid profile offline_access ${API_SCOPE}`);
    assert.equal(withoutGrant.refresh_token, undefined, 'the login never granted offline access');
    assert.ok(withoutGrant.access_token);

    const offline = await login(spa, 'alice', 'demo-alice', undefined, { scope: `openid offline_access ${API_SCOPE}`, audience: API_AUDIENCE });
    const notAsked = await silentLogin(offline.ua, `openid ${API_SCOPE}`);
    assert.equal(notAsked.refresh_token, undefined, 'offline access not asked for');
  });
});

describe("a first-party client's silent login gets, without a page, what an interactive one would (Auth0: first-party applications skip consent)", () => {
  const SWAGGER_REDIRECT_URI = 'http://localhost:5001/swagger/oauth2-redirect.html';

  async function silentCode(config: oidc.Configuration, ua: UserAgent, params: Record<string, string>) {
    const req = await authorizationRequest(config, { prompt: 'none', ...params });
    const res = await ua.request(req.url);
    const location = new URL(res.headers.get('location') ?? '', idp.issuer);
    assert.equal(location.searchParams.get('error'), null, `no ${location.searchParams.get('error')}`);
    return oidc.authorizationCodeGrant(config, location, { pkceCodeVerifier: req.verifier, expectedState: req.state });
  }

  test('more than its login gave: new OpenID scopes, the API and its scope', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice', undefined, { scope: 'openid', audience: '' });
    const tokens = await silentCode(spa, ua, { scope: `openid profile email ${API_SCOPE}`, audience: API_AUDIENCE });
    assert.deepEqual(tokens.scope?.split(' ').sort(), ['auth0-user-api-spa', 'email', 'openid', 'profile']);
    assert.equal(tokens.claims()?.['email'], 'alice@example.com');
    assert.ok([decodeJwt(tokens.access_token).payload['aud']].flat().includes(API_AUDIENCE));
  });

  test("an API scope the user does not hold stays refused (bob's)", async () => {
    const { ua } = await login(spa, 'bob', 'demo-bob', undefined, { scope: 'openid', audience: '' });
    const tokens = await silentCode(spa, ua, { scope: `openid ${API_SCOPE}`, audience: API_AUDIENCE });
    assert.deepEqual(tokens.scope?.split(' '), ['openid']);
  });

  test('another first-party client gets in on the same IdP session (single sign-on)', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    const swagger = await rpConfig(idp.issuer, 'swagger');
    const tokens = await silentCode(swagger, ua, { redirect_uri: SWAGGER_REDIRECT_URI, scope: `openid ${API_SCOPE}` });
    assert.equal(decodeJwt(tokens.access_token).payload['sub'], 'auth0|alice');
  });

  test('a third-party client still gets consent_required', async () => {
    const clients = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'clients.json'), 'utf8')) as { clients: unknown[] };
    clients.clients.push({ client_id: 'third-party', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['http://localhost:4700/cb'] });
    await withIdpInProcess((port) => {
      const file = join(idp.dataDir, `clients-${port}.json`);
      writeFileSync(file, JSON.stringify(clients));
      return { IDP_CLIENTS_FILE: file };
    }, {}, async (other) => {
      const { ua } = await login(await rpConfig(other.issuer, 'spa'), 'alice', 'demo-alice');
      const thirdParty = await rpConfig(other.issuer, 'third-party');
      const res = await ua.request((await authorizationRequest(thirdParty, { prompt: 'none', redirect_uri: 'http://localhost:4700/cb', scope: 'openid', audience: '' })).url);
      assert.equal(new URL(res.headers.get('location') ?? '').searchParams.get('error'), 'consent_required');
    });
  });
});

describe("prompt=select_account, which Auth0's SDKs offer", () => {
  test('a signed-in browser gets the login page and may pick another account; the session is then that account\'s', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    const req = await authorizationRequest(spa, { prompt: 'select_account' });
    const page = await followIdpRedirects(ua, idp.issuer, req.url);
    assert.equal(page.status, 200, 'the login page, not an error');
    // Another account: oidc-provider first ends alice's session with a form that submits itself.
    const switching = await submitLogin(ua, idp.issuer, page, 'bob', 'demo-bob');
    const html = await switching.text();
    const action = /<form method="post" action="([^"]+\/oidc\/logout\/confirm)"/.exec(html)?.[1];
    assert.ok(action, 'alice\'s session is ended first');
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1]!, m[2]!]));
    const answer = await followIdpRedirects(ua, idp.issuer, action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const tokens = await oidc.authorizationCodeGrant(spa, new URL(answer.headers.get('location')!), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    assert.equal(tokens.claims()?.sub, 'auth0|bob');
    assert.ok(tokens.refresh_token, 'offline_access kept (select_account with the implied consent)');
    const next = await authorizationRequest(spa);
    const callback = await authorizeWithLogin(ua, spa, next, 'unused', 'unused');
    const again = await oidc.authorizationCodeGrant(spa, callback, { pkceCodeVerifier: next.verifier, expectedState: next.state });
    assert.equal(again.claims()?.sub, 'auth0|bob', 'signed in as bob without a page');
  });

  test('a browser without a session gets the login page, then tokens', async () => {
    const tokens = (await login(spa, 'alice', 'demo-alice', userAgent(), { prompt: 'select_account' })).tokens;
    assert.equal(tokens.claims()?.sub, 'auth0|alice');
  });

  test('with prompt=none, or beside an unknown prompt value, it is still invalid_request', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    for (const prompt of ['none select_account', 'select_account bogus']) {
      const res = await ua.request((await authorizationRequest(spa, { prompt })).url);
      const error = new URL(res.headers.get('location') ?? 'http://x').searchParams.get('error');
      assert.equal(error, 'invalid_request', prompt);
    }
  });
});

describe("login_hint, which Auth0's SDKs send to prefill the login page", () => {
  /** The login page for an authorization request with these parameters, in a browser without a session. */
  async function loginPage(params: Record<string, string>): Promise<{ html: string; username: string | undefined; focus: string | undefined }> {
    const res = await followIdpRedirects(userAgent(), idp.issuer, (await authorizationRequest(spa, params)).url);
    assert.equal(res.status, 200);
    const html = await res.text();
    const username = /<input id="username"[^>]* value="([^"]*)"/.exec(html)?.[1];
    const focus = /<input id="(\w+)"[^>]* autofocus/.exec(html)?.[1];
    return { html, username, focus };
  }

  test('prefills the username and puts the focus on the password; without a hint the field is empty and focused', async () => {
    assert.deepEqual(await loginPage({ login_hint: 'bob' }).then(({ username, focus }) => ({ username, focus })), { username: 'bob', focus: 'password' });
    assert.equal(await loginPage({ login_hint: 'bob', prompt: 'select_account' }).then(({ username }) => username), 'bob', 'so does the account selection');
    assert.deepEqual(await loginPage({}).then(({ username, focus }) => ({ username, focus })), { username: '', focus: 'username' });
  });

  test('is only a hint: whoever signs in is the user', async () => {
    const ua = userAgent();
    const req = await authorizationRequest(spa, { login_hint: 'bob' });
    const callback = await authorizeWithLogin(ua, spa, req, 'alice', 'demo-alice');
    const tokens = await oidc.authorizationCodeGrant(spa, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state });
    assert.equal(tokens.claims()?.sub, 'auth0|alice');
  });

  test('a hostile hint is escaped, cut to the field\'s length and stripped of control characters; an unknown name looks like any other', async () => {
    const hostile = `"><script src="https://evil.example/x.js"></script><input name="password" value="`;
    const { html, username } = await loginPage({ login_hint: hostile });
    assert.equal(username, '&quot;&gt;&lt;script src=&quot;https://evil.example/x.js&quot;&gt;&lt;/script&gt;&lt;input name=&quot;password&quot; value=&quot;');
    assert.doesNotMatch(html, /evil\.example\/x\.js"/, 'no markup from the hint');
    assert.equal((html.match(/name="password"/g) ?? []).length, 1, 'one password field, the page\'s own');
    assert.equal(await loginPage({ login_hint: `  a\u0000b\u001b\u0085c\n${'x'.repeat(200)}  ` }).then((p) => p.username), `abc${'x'.repeat(125)}`);
    const unknown = await loginPage({ login_hint: 'nobody-here' });
    const known = await loginPage({ login_hint: 'alice' });
    const shape = (html: string) => html.replace(/\/interaction\/[\w-]+\//g, '/interaction/UID/').replace(/value="(nobody-here|alice)"/, 'value="NAME"');
    assert.equal(shape(unknown.html), shape(known.html), 'the page does not tell whether the hinted user exists');
  });

  test('a failed sign-in shows the name typed, not the hint', async () => {
    const ua = userAgent();
    const res = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa, { login_hint: 'bob' })).url);
    const failed = await submitLogin(ua, idp.issuer, res, 'alice', 'wrong-password');
    assert.equal(failed.status, 401);
    assert.match(await failed.text(), /<input id="username"[^>]* value="alice"/);
  });
});
