// Popup logins over HTTP: every response a popup passes through keeps its opener (no
// Cross-Origin-Opener-Policy but unsafe-none) and still refuses framing; the web_message answer
// that Auth0's SDK expects from a popup (or its silent login's iframe) posts the code to the
// redirect URI's origin only, and only that origin may frame it (decision 0041).
// The same flows in Chromium: tests/e2e/scenarios/ and tests/auth0-spa-js-silent-login.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type * as oidc from 'openid-client';
import { SPA_REDIRECT_URI, authorizationRequest, userAgent, type UserAgent } from '../../../tests/support/oidc-rp.ts';
import { idp, inProcessIdpWithSpa, spa } from '../../../tests/support/idp-with-spa.ts';

inProcessIdpWithSpa();

/** Every response from the authorization request to the answer that leaves the IdP, logging in on the way. */
async function popupJourney(ua: UserAgent, start: URL): Promise<Response[]> {
  const seen: Response[] = [];
  let res = await ua.request(start);
  for (let hops = 0; hops < 12; hops++) {
    seen.push(res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, idp.issuer);
      if (next.origin !== new URL(idp.issuer).origin) return seen;
      res = await ua.request(next);
      continue;
    }
    const html = await res.clone().text();
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];
    if (!action) return seen;
    res = await ua.request(new URL(action, idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'demo-alice' }).toString(),
    });
  }
  throw new Error('too many hops');
}

function refusesFraming(res: Response, where: string): void {
  assert.equal(res.headers.get('x-frame-options'), 'DENY', `${where}: X-Frame-Options`);
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, `${where}: frame-ancestors`);
}

/** No X-Frame-Options (it cannot name an origin) and frame-ancestors naming `redirectUri`'s origin alone. */
function framedOnlyBy(res: Response, redirectUri: string): void {
  assert.equal(res.headers.get('x-frame-options'), null, 'X-Frame-Options');
  const ancestors = (res.headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim()).filter((d) => d.startsWith('frame-ancestors'));
  assert.deepEqual(ancestors, [`frame-ancestors ${new URL(redirectUri).origin}`]);
}

describe('pages a popup login passes through', () => {
  test('keep the opener (COOP unsafe-none) and refuse framing, from the authorization request to the redirect', async () => {
    const { url } = await authorizationRequest(spa);
    const journey = await popupJourney(userAgent(), url);
    assert.ok(journey.some((r) => r.status === 200 && new URL(r.url).pathname.startsWith('/interaction/')), 'the login page was shown');
    const last = journey.at(-1)!;
    assert.ok(last.headers.get('location')?.startsWith(SPA_REDIRECT_URI), 'the journey ends with the redirect to the client');
    for (const res of journey) {
      const where = `${res.status} ${new URL(res.url).pathname}`;
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'unsafe-none', `${where}: COOP`);
      refusesFraming(res, where);
    }
  });

  test('the web_message answer posts code and state to the redirect URI\'s origin, and only that origin may frame it; the login page on the way may not be framed', async () => {
    const { url, state } = await authorizationRequest(spa, { response_mode: 'web_message' });
    const journey = await popupJourney(userAgent(), url);
    const answer = journey.at(-1)!;
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('cross-origin-opener-policy'), 'unsafe-none');
    for (const res of journey.slice(0, -1)) refusesFraming(res, `${res.status} ${new URL(res.url).pathname}`);
    framedOnlyBy(answer, SPA_REDIRECT_URI);
    const html = await answer.text();
    const data = JSON.parse(/var data = (\{.*?\});/s.exec(html)![1]!) as { response: Record<string, string>; redirect_uri: string };
    assert.equal(data.redirect_uri, SPA_REDIRECT_URI, 'the message goes to the registered redirect URI\'s origin only');
    assert.equal(data.response['state'], state);
    assert.ok(data.response['code'], 'a code is handed over');
    assert.match(html, /target\.postMessage\(authorization_response, origin\)/);
    // The inline script runs under the page's CSP by its hash, never by 'unsafe-inline'.
    const scriptSrc = /script-src ([^;]*)/.exec(answer.headers.get('content-security-policy') ?? '')![1]!;
    assert.match(scriptSrc, /'sha256-[A-Za-z0-9+/=]+'/);
    assert.doesNotMatch(scriptSrc, /unsafe-inline/);
  });

  test('an error answered by web_message (prompt=none without a session: login_required) may be framed by the redirect URI\'s origin only', async () => {
    const { url, state } = await authorizationRequest(spa, { response_mode: 'web_message', prompt: 'none' });
    const answer = await userAgent().request(url);
    assert.equal(answer.status, 400);
    const data = JSON.parse(/var data = (\{.*?\});/s.exec(await answer.text())![1]!) as { response: Record<string, string> };
    assert.equal(data.response['error'], 'login_required');
    assert.equal(data.response['state'], state);
    framedOnlyBy(answer, SPA_REDIRECT_URI);
  });

  test('an answer by redirect, by form post or as an error page refuses framing, web_message asked for or not', async () => {
    const ua = userAgent();
    await popupJourney(ua, (await authorizationRequest(spa)).url);
    const answers = [
      await ua.request((await authorizationRequest(spa, { prompt: 'none' })).url),
      await ua.request((await authorizationRequest(spa, { prompt: 'none', response_mode: 'form_post' })).url),
      await ua.request((await authorizationRequest(spa, { response_mode: 'web_message', redirect_uri: 'http://localhost:4999' })).url),
      await ua.request((await authorizationRequest(spa, { response_mode: 'web_message', client_id: 'no-such-client' })).url),
    ];
    assert.deepEqual(answers.map((r) => r.status), [303, 200, 400, 400]);
    for (const res of answers) refusesFraming(res, `${res.status} ${res.url}`);
  });

  test('an unregistered redirect URI gets an error page, not a message to that origin', async () => {
    const { url } = await authorizationRequest(spa, { response_mode: 'web_message', redirect_uri: 'http://localhost:4999' });
    const res = await userAgent().request(url);
    assert.equal(res.status, 400);
    assert.doesNotMatch(await res.text(), /postMessage/);
  });
});

describe('other IdP responses', () => {
  test('send Cross-Origin-Opener-Policy: same-origin', async () => {
    for (const path of ['/.well-known/openid-configuration', '/oidc/logout', '/v2/logout', '/healthz', '/assets/idp.css']) {
      const res = await fetch(`${idp.issuer}${path}`);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', path);
    }
    // A path that merely starts like a popup one is not one.
    const lookalike = await fetch(`${idp.issuer}/authorizex`);
    assert.equal(lookalike.headers.get('cross-origin-opener-policy'), 'same-origin');
  });
});
