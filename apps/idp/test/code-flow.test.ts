// The happy path, as the SPA will use it: code flow through the login form, refresh rotation,
// revocation, RP-initiated logout.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { API_AUDIENCE, API_SCOPE, SPA_REDIRECT_URI, SPA_SCOPE, authorizationRequest, decodeJwt, followIdpRedirects, login, tokenRequest, userAgent } from '../../../tests/support/oidc-rp.ts';
import { idp, inProcessIdpWithSpa, spa } from '../../../tests/support/idp-with-spa.ts';

inProcessIdpWithSpa();

describe('authorization code flow', () => {
  test('alice signs in through the login form and gets Auth0-shaped tokens', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.refresh_token, 'offline_access yields a refresh token without prompt=consent');
    const at = decodeJwt(tokens.access_token);
    assert.equal(at.header['typ'], 'at+jwt');
    assert.equal(at.header['alg'], 'RS256');
    assert.equal(typeof at.header['kid'], 'string');
    assert.equal(at.payload['iss'], idp.issuer);
    assert.equal(at.payload['sub'], 'auth0|alice');
    assert.deepEqual(at.payload['aud'], [API_AUDIENCE, `${idp.issuer}/userinfo`]);
    assert.equal(at.payload['client_id'], 'spa');
    assert.equal(at.payload['scope'], SPA_SCOPE);
    assert.equal(typeof at.payload['jti'], 'string');
    assert.equal(Number(at.payload['exp']) - Number(at.payload['iat']), 300);
    const claims = tokens.claims()!;
    assert.equal(claims.sub, 'auth0|alice');
    assert.equal(claims['name'], 'Alice Example');
  });

  test('the JWKS publishes the signing key under the token kid', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const jwks = (await (await fetch(`${idp.issuer}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    const kid = decodeJwt(tokens.access_token).header['kid'];
    const key = jwks.keys.find((k) => k['kid'] === kid);
    assert.ok(key);
    assert.equal(key['d'], undefined, 'no private part is published');
  });

  test('bob signs in but his access token lacks the API scope', async () => {
    const { tokens } = await login(spa, 'bob', 'demo-bob');
    const scope = decodeJwt(tokens.access_token).payload['scope'];
    assert.ok(scope === undefined || !String(scope).split(' ').includes(API_SCOPE));
  });

  test('a second authorization in the same browser needs no password (SSO session)', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    const again = await login(spa, 'nobody', 'unused', ua);
    assert.equal(decodeJwt(again.tokens.access_token).payload['sub'], 'auth0|alice');
  });
});

describe('refresh tokens', () => {
  test('each refresh rotates the refresh token and issues a fresh access token', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const refreshed = await oidc.refreshTokenGrant(spa, tokens.refresh_token!, { scope: `openid profile offline_access ${API_SCOPE}` });
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    const at = decodeJwt(refreshed.access_token).payload;
    assert.deepEqual(at['aud'], [API_AUDIENCE, `${idp.issuer}/userinfo`]);
    assert.equal(at['scope'], SPA_SCOPE);
    const again = await oidc.refreshTokenGrant(spa, refreshed.refresh_token!);
    assert.ok(again.refresh_token);
  });

  test('reusing a rotated refresh token after its successor was used revokes the whole grant, newest token included', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const first = tokens.refresh_token!;
    const rotated = await oidc.refreshTokenGrant(spa, await oidc.refreshTokenGrant(spa, first).then((r) => r.refresh_token!));
    const reuse = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', refresh_token: first, client_id: 'spa' });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body['error'], 'invalid_grant');
    const newest = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', refresh_token: rotated.refresh_token!, client_id: 'spa' });
    assert.equal(newest.status, 400);
    assert.equal(newest.body['error'], 'invalid_grant');
    assert.ok(idp.logs.some((l) => l.includes('"replay_detected"')), 'reuse is audited');
  });
});

describe('revocation', () => {
  test('revoking the refresh token ends its grant', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    await oidc.tokenRevocation(spa, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    const after = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'spa' });
    assert.equal(after.status, 400);
    assert.equal(after.body['error'], 'invalid_grant');
    assert.ok(idp.logs.some((l) => l.includes('"token_revoked"')));
  });
});

describe('RP-initiated logout', () => {
  test('with a valid id_token_hint and registered post_logout_redirect_uri it logs out without confirmation', async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const url = oidc.buildEndSessionUrl(spa, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SPA_REDIRECT_URI, state: 'bye' });
    const page = await followIdpRedirects(ua, idp.issuer, url);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /data-auto-submit/, 'the page submits itself');
    const action = /<form data-auto-submit id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    assert.equal(fields['logout'], 'yes');
    const done = await followIdpRedirects(ua, idp.issuer, new URL(action!, idp.issuer), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields as Record<string, string>).toString(),
    });
    const back = new URL(done.headers.get('location')!);
    assert.equal(back.origin, SPA_REDIRECT_URI);
    assert.equal(back.searchParams.get('state'), 'bye');
    // The IdP session is gone: a new authorization shows the login page again.
    const again = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
    assert.match(await again.text(), /<label for="password">Password<\/label>/);
    assert.ok(idp.logs.some((l) => l.includes('"logout"')));
    // The logout ended the grant too, although nobody called the revocation endpoint.
    const refresh = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
    assert.equal(refresh.status, 400);
    assert.equal(refresh.body['error'], 'invalid_grant');
  });

  test('a user who confirms the sign-out page ends every grant of the session', async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const page = await followIdpRedirects(ua, idp.issuer, `${idp.issuer}/oidc/logout?client_id=spa`);
    const html = await page.text();
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    const done = await ua.request(new URL(action!, idp.issuer), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }).toString(),
    });
    assert.equal(done.status, 303);
    const refresh = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
    assert.equal(refresh.status, 400);
  });

  test('a refresh token of another login (another browser) survives this logout', async () => {
    const other = await login(spa, 'alice', 'demo-alice');
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const url = oidc.buildEndSessionUrl(spa, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SPA_REDIRECT_URI });
    const html = await (await followIdpRedirects(ua, idp.issuer, url)).text();
    const action = /action="([^"]+)"/.exec(html)![1]!;
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const done = await ua.request(new URL(action, idp.issuer), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields as Record<string, string>).toString() });
    assert.equal(done.status, 303);
    // This browser's logout happened: its session and its refresh token are gone...
    const again = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
    assert.match(await again.text(), /<label for="password">Password<\/label>/);
    const dead = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
    assert.equal(dead.status, 400);
    // ...and the other browser's refresh token still works.
    const survivor = await oidc.refreshTokenGrant(spa, other.tokens.refresh_token!);
    assert.ok(survivor.access_token);
  });

  test('without an id_token_hint the user is asked to confirm', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    const page = await followIdpRedirects(ua, idp.issuer, `${idp.issuer}/oidc/logout?client_id=spa&post_logout_redirect_uri=${encodeURIComponent(SPA_REDIRECT_URI)}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.doesNotMatch(html, /data-auto-submit/);
    assert.match(html, /Yes, sign me out/);
  });

  test('an unregistered post_logout_redirect_uri is refused', async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const url = `${idp.issuer}/oidc/logout?id_token_hint=${tokens.id_token}&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`;
    const res = await followIdpRedirects(ua, idp.issuer, url);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /post_logout_redirect_uri not registered/);
  });
});

test('a fresh user agent sees the login page, never a password in the logs', async () => {
  const ua = userAgent();
  const { url } = await authorizationRequest(spa);
  const page = await followIdpRedirects(ua, idp.issuer, url);
  const html = await page.text();
  assert.match(html, /<label for="username">Username<\/label>/);
  assert.match(html, /<input id="username" name="username"/);
  assert.match(html, /<input id="password" name="password" type="password"/);
  assert.ok(!idp.logs.some((l) => l.includes('demo-alice') || l.includes('demo-bob')));
});
