// OpenID Connect requires the authorization and end-session endpoints to take a form post as well
// as GET (Core 3.1.2.1, RP-Initiated Logout 2); ASP.NET Core's handler sends them so with
// AuthenticationMethod = FormPost. The IdP answers such a post with a 303 to the same endpoint with
// the form as its query, which the browser follows with a GET carrying the IdP's SameSite=Lax
// cookies (a cross-site post carries none): the request then goes on as if sent by GET
// (docs/decisions/0052).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { SPA_REDIRECT_URI, authorizationRequest, followIdpRedirects, login, submitLogin, userAgent, type UserAgent } from '../../../tests/support/oidc-rp.ts';
import { idp, inProcessIdpWithSpa, spa } from '../../../tests/support/idp-with-spa.ts';

inProcessIdpWithSpa();

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Posts `params` as a form to `path`, as a browser submits a client's auto-posting form. */
const postForm = (ua: UserAgent, path: string, params: URLSearchParams, init: { headers?: Record<string, string>; query?: string } = {}) =>
  ua.request(new URL(`${path}${init.query ?? ''}`, idp.issuer), { method: 'POST', headers: { ...FORM, ...init.headers }, body: params.toString() });

describe('the authorization request as a form post', () => {
  test('is sent on by a 303 to the endpoint with the same parameters, and the flow goes on as by GET', async () => {
    const ua = userAgent();
    const req = await authorizationRequest(spa);
    const posted = await postForm(ua, '/authorize', req.url.searchParams);
    assert.equal(posted.status, 303);
    const next = new URL(posted.headers.get('location')!, idp.issuer);
    assert.equal(next.pathname, '/authorize');
    assert.deepEqual([...next.searchParams].sort(), [...req.url.searchParams].sort());
    const page = await followIdpRedirects(ua, idp.issuer, next);
    const callback = await submitLogin(ua, idp.issuer, page, 'alice', 'demo-alice');
    const tokens = await oidc.authorizationCodeGrant(spa, new URL(callback.headers.get('location')!), { pkceCodeVerifier: req.verifier, expectedState: req.state });
    assert.equal(tokens.claims()?.sub, 'auth0|alice');
    assert.ok(tokens.refresh_token, 'offline_access kept, as for a GET request');
  });

  test('a signed-in browser gets its code without a page (the session cookie rides on the GET)', async () => {
    const { ua } = await login(spa, 'alice', 'demo-alice');
    const req = await authorizationRequest(spa, { prompt: 'none' });
    const answer = await followIdpRedirects(ua, idp.issuer, new URL((await postForm(ua, '/authorize', req.url.searchParams)).headers.get('location')!, idp.issuer));
    assert.ok(answer.headers.get('location')?.startsWith(`${SPA_REDIRECT_URI}/?code=`), `got ${answer.status} ${answer.headers.get('location')}`);
  });
});

describe('the end-session request as a form post', () => {
  test('with a hint of this session logs out as by GET; the session is over', async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const params = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: SPA_REDIRECT_URI, state: 'after-logout' });
    const posted = await postForm(ua, '/oidc/logout', params);
    assert.equal(posted.status, 303);
    const html = await (await followIdpRedirects(ua, idp.issuer, new URL(posted.headers.get('location')!, idp.issuer))).text();
    const action = /<form data-auto-submit id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    assert.ok(action, 'the page that logs out at once');
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const done = await ua.request(new URL(action, idp.issuer), { method: 'POST', headers: FORM, body: new URLSearchParams(fields).toString() });
    assert.equal(done.headers.get('location'), `${SPA_REDIRECT_URI}/?state=after-logout`);
    const again = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa, { prompt: 'none' })).url);
    assert.equal(new URL(again.headers.get('location')!).searchParams.get('error'), 'login_required');
  });
});

describe('a post that cannot be sent on', () => {
  test('gets the error page, never a redirect: another body type, a query beside the body, a body too large to become a URL', async () => {
    const ua = userAgent();
    const params = (await authorizationRequest(spa)).url.searchParams;
    const answers = [
      await postForm(ua, '/authorize', params, { headers: { 'content-type': 'application/json' } }),
      await postForm(ua, '/authorize', params, { headers: { 'content-type': 'text/plain' } }),
      await postForm(ua, '/authorize', params, { query: '?client_id=spa' }),
      await postForm(ua, '/oidc/logout', new URLSearchParams({ client_id: 'spa', padding: 'x'.repeat(9000) })),
    ];
    for (const res of answers) {
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /<strong>invalid_request<\/strong>/);
    }
  });

  test('other methods are still not served', async () => {
    for (const method of ['PUT', 'DELETE']) {
      assert.equal((await fetch(new URL('/authorize', idp.issuer), { method })).status, 404, method);
    }
  });
});
