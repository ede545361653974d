// oidc-provider's router serves every route in any ASCII case, with one trailing slash, and (through
// Koa) from an absolute-form request target. Each such spelling must reach the endpoint with every
// check the IdP keys on the route's path (decision 0046): the logout that revokes grants, JWT access
// tokens at revocation and introspection, JSON bodies, offline_access without a consent prompt,
// the popup pages' opener policy.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import * as oidc from 'openid-client';
import {
  DEV_API_SECRET, SPA_REDIRECT_URI, authorizationRequest, authorizeWithLogin, followIdpRedirects, login, rpConfig, tokenRequest, userAgent,
} from '../../../tests/support/oidc-rp.ts';
import { canonicalPath } from '../src/request-path.ts';
import { idp, inProcessIdpWithSpa, spa } from '../../../tests/support/idp-with-spa.ts';

inProcessIdpWithSpa();

const refreshStatus = async (refreshToken: string) =>
  (await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshToken })).status;

/** Sends one request as written on the wire (for an absolute-form target); answers status and body. */
async function rawRequest(requestLine: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(idp.issuer);
  const socket = connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname);
  const head = Object.entries({ host: `${hostname}:${port}`, connection: 'close', 'content-length': String(Buffer.byteLength(body)), ...headers })
    .map(([name, value]) => `${name}: ${value}`).join('\r\n');
  socket.end(`${requestLine}\r\n${head}\r\n\r\n${body}`);
  let answer = '';
  for await (const chunk of socket) answer += chunk;
  const [statusLine] = answer.split('\r\n');
  return { status: Number(statusLine!.split(' ')[1]), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) };
}

describe('every spelling of a route gets the checks of its path', () => {
  for (const spelling of ['/oidc/logout/confirm/', '/OIDC/Logout/CONFIRM']) {
    test(`a logout confirmed at ${spelling} revokes the grants it ends, as at /oidc/logout/confirm`, async () => {
      const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
      const url = oidc.buildEndSessionUrl(spa, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SPA_REDIRECT_URI });
      const html = await (await followIdpRedirects(ua, idp.issuer, url)).text();
      const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      assert.ok(fields['xsrf'], 'the logout page carries its form');
      const res = await ua.request(new URL(spelling, idp.issuer), {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), `${SPA_REDIRECT_URI}/`);
      assert.equal(await refreshStatus(tokens.refresh_token!), 400, 'the refresh token died with the logout');
    });
  }

  for (const spelling of ['/oauth/revoke/', '/OAuth/Revoke']) {
    test(`a JWT access token revoked at ${spelling} ends its grant`, async () => {
      const { tokens } = await login(spa, 'alice', 'demo-alice');
      const res = await fetch(new URL(spelling, idp.issuer), {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: tokens.access_token, client_id: 'spa' }).toString(),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(await refreshStatus(tokens.refresh_token!), 400);
    });
  }

  test('a JWT access token introspected at /OAUTH/INTROSPECT/ is active', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const res = await fetch(new URL('/OAUTH/INTROSPECT/', idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`api:${DEV_API_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ token: tokens.access_token }).toString(),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { active: boolean }).active, true);
  });

  test('a JSON refresh at /OAuth/Token/ and at an absolute-form target is taken as its form', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const cased = await fetch(new URL('/OAuth/Token/', idp.issuer), {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token }),
    });
    const rotated = (await cased.json()) as { refresh_token?: string };
    assert.equal(cased.status, 200, JSON.stringify(rotated));
    const absolute = await rawRequest(`POST ${idp.issuer}/oauth/token HTTP/1.1`, { 'content-type': 'application/json' },
      JSON.stringify({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: rotated.refresh_token }));
    assert.equal(absolute.status, 200, absolute.body);
  });

  for (const spelling of ['/Authorize', '/authorize/']) {
    test(`an authorization request at ${spelling} gets offline_access without asking for consent, and the popup's opener policy`, async () => {
      const req = await authorizationRequest(spa);
      const url = new URL(req.url);
      url.pathname = spelling;
      const first = await fetch(url, { redirect: 'manual' });
      assert.equal(first.headers.get('cross-origin-opener-policy'), 'unsafe-none');
      await first.arrayBuffer();
      const callback = await authorizeWithLogin(userAgent(), spa, { ...req, url }, 'alice', 'demo-alice');
      const tokens = await oidc.authorizationCodeGrant(spa, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state });
      assert.ok(tokens.refresh_token, `a refresh token (scope ${tokens.scope})`);
    });
  }
});

describe('the canonical spelling of a path', () => {
  test('is the route as registered, its parameter segment as written', () => {
    assert.equal(canonicalPath('/OIDC/LOGOUT/CONFIRM/'), '/oidc/logout/confirm');
    assert.equal(canonicalPath('/Authorize/AbC-123'), '/authorize/AbC-123');
    assert.equal(canonicalPath('/.Well-Known/OpenID-Configuration'), '/.well-known/openid-configuration');
    assert.equal(canonicalPath('/oauth/token'), '/oauth/token');
  });

  test('leaves alone what the router does not serve', () => {
    for (const path of ['/oauth/tokens', '/oauth//token', '/oauth/token//', '/%6Fauth/token', '/authorize//', '/interaction/AbC', '/v2/logout/', '/', '/o\u0131dc/logout']) {
      assert.equal(canonicalPath(path), path, path);
    }
  });
});
