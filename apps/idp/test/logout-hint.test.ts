// Forced logout: a page on another site sends the victim's browser to the end-session endpoint with
// some ID token of the client as id_token_hint. Only a hint of the victim's current IdP session may
// log out without asking (its sub and its sid); anything else shows the confirmation page, and
// nothing ends until she confirms: a "No" on that page, or any answer that does not say yes, ends nothing.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { SPA_REDIRECT_URI, authorizationRequest, followIdpRedirects, login, tokenRequest, userAgent, type UserAgent } from '../../../tests/support/oidc-rp.ts';
import { idp, inProcessIdpWithSpa, spa } from '../../../tests/support/idp-with-spa.ts';

inProcessIdpWithSpa();

/** The page the victim's browser gets for an end-session request with this hint. */
async function endSessionPage(ua: UserAgent, idTokenHint: string): Promise<string> {
  const url = oidc.buildEndSessionUrl(spa, { id_token_hint: idTokenHint, post_logout_redirect_uri: SPA_REDIRECT_URI });
  const res = await followIdpRedirects(ua, idp.issuer, url);
  assert.equal(res.status, 200);
  return res.text();
}

/** The victim is untouched: still signed in at the IdP, her refresh token still works. */
async function assertUntouched(ua: UserAgent, refreshToken: string): Promise<void> {
  const again = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
  assert.ok(again.headers.get('location')?.startsWith(SPA_REDIRECT_URI), 'the IdP session is still there');
  const refresh = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshToken });
  assert.equal(refresh.status, 200, 'the refresh token still works');
}

const asksTheUser = (html: string) => {
  assert.doesNotMatch(html, /data-auto-submit/, 'the page must not submit itself');
  assert.match(html, /Yes, sign me out/);
};

describe('end session with an id_token_hint', () => {
  test('every ID token names its IdP session (sid), refreshed ones the same', async () => {
    const { tokens } = await login(spa, 'alice', 'demo-alice');
    const sid = tokens.claims()!['sid'];
    assert.equal(typeof sid, 'string');
    const refreshed = await oidc.refreshTokenGrant(spa, tokens.refresh_token!);
    assert.equal(refreshed.claims()!['sid'], sid);
  });

  test("the victim's own hint of this session logs out at once", async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    assert.match(await endSessionPage(ua, tokens.id_token!), /data-auto-submit/);
  });

  test('the end-session pages that go on at once may be framed by the post-logout redirect URI\'s origin only (a hidden-iframe logout); every page that asks, or refuses, may not be framed', async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    const other = await login(spa, 'bob', 'demo-bob');
    const framing = async (browser: UserAgent, params: Record<string, string>) => {
      const res = await followIdpRedirects(browser, idp.issuer, oidc.buildEndSessionUrl(spa, params));
      const html = await res.text();
      const ancestors = (res.headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim()).filter((d) => d.startsWith('frame-ancestors'));
      return { status: res.status, goesOn: !/Yes, sign me out/.test(html), xfo: res.headers.get('x-frame-options'), ancestors };
    };
    const refused = { xfo: 'DENY', ancestors: ["frame-ancestors 'none'"] };
    const byTheClient = { xfo: null, ancestors: [`frame-ancestors ${new URL(SPA_REDIRECT_URI).origin}`] };
    // Goes on at once: a hint of this very session; no session at all (nothing to end), with or without a hint.
    assert.deepEqual(await framing(ua, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SPA_REDIRECT_URI }), { status: 200, goesOn: true, ...byTheClient });
    assert.deepEqual(await framing(userAgent(), { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SPA_REDIRECT_URI }), { status: 200, goesOn: true, ...byTheClient });
    assert.deepEqual(await framing(userAgent(), { client_id: 'spa', post_logout_redirect_uri: SPA_REDIRECT_URI }), { status: 200, goesOn: true, ...byTheClient });
    // Asks the user: another user's hint, no hint; or goes nowhere framed: no post-logout redirect URI.
    assert.deepEqual(await framing(ua, { id_token_hint: other.tokens.id_token!, post_logout_redirect_uri: SPA_REDIRECT_URI }), { status: 200, goesOn: false, ...refused });
    assert.deepEqual(await framing(ua, { client_id: 'spa', post_logout_redirect_uri: SPA_REDIRECT_URI }), { status: 200, goesOn: false, ...refused });
    assert.deepEqual(await framing(userAgent(), { client_id: 'spa' }), { status: 200, goesOn: true, ...refused });
    // Refused: a post-logout redirect URI the client did not register (an error page, never a redirect).
    assert.deepEqual(await framing(userAgent(), { client_id: 'spa', post_logout_redirect_uri: 'http://localhost:4999/' }), { status: 400, goesOn: true, ...refused });
    assert.deepEqual(await framing(ua, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://localhost:4999/' }), { status: 400, goesOn: true, ...refused });
  });

  test("another user's ID token asks the victim", async () => {
    const victim = await login(spa, 'alice', 'demo-alice');
    const attacker = await login(spa, 'bob', 'demo-bob');
    asksTheUser(await endSessionPage(victim.ua, attacker.tokens.id_token!));
    await assertUntouched(victim.ua, victim.tokens.refresh_token!);
  });

  test("the victim's own ID token from another browser (another session) asks", async () => {
    const victim = await login(spa, 'alice', 'demo-alice');
    const elsewhere = await login(spa, 'alice', 'demo-alice');
    assert.notEqual(elsewhere.tokens.claims()!['sid'], victim.tokens.claims()!['sid']);
    asksTheUser(await endSessionPage(victim.ua, elsewhere.tokens.id_token!));
    await assertUntouched(victim.ua, victim.tokens.refresh_token!);
  });

  test("a hint of the victim's earlier, ended session asks", async () => {
    const first = await login(spa, 'alice', 'demo-alice');
    const res = await first.ua.request(`${idp.issuer}/v2/logout?client_id=spa`);
    assert.equal(res.status, 200);
    const current = await login(spa, 'alice', 'demo-alice', first.ua);
    asksTheUser(await endSessionPage(current.ua, first.tokens.id_token!));
    await assertUntouched(current.ua, current.tokens.refresh_token!);
  });

  test('a hint with a forged sid is refused: its signature no longer holds', async () => {
    const victim = await login(spa, 'alice', 'demo-alice');
    const [h, p, s] = victim.tokens.id_token!.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = [h, Buffer.from(JSON.stringify({ ...payload, sid: 'x' })).toString('base64url'), s].join('.');
    const url = oidc.buildEndSessionUrl(spa, { id_token_hint: forged, post_logout_redirect_uri: SPA_REDIRECT_URI });
    const res = await followIdpRedirects(victim.ua, idp.issuer, url);
    assert.equal(res.status, 400);
    await assertUntouched(victim.ua, victim.tokens.refresh_token!);
  });
});

describe('end session with client_id and logout_hint instead of an ID token (Auth0\'s alternative for a client that keeps no ID token in the browser, decision 0066)', () => {
  /** The page for these parameters, with the SPA's post-logout URI unless they name their own (or none: ''). */
  const pageFor = async (ua: UserAgent, params: Record<string, string>) => {
    const query = new URLSearchParams({ post_logout_redirect_uri: SPA_REDIRECT_URI, ...params });
    if (!query.get('post_logout_redirect_uri')) query.delete('post_logout_redirect_uri');
    const res = await followIdpRedirects(ua, idp.issuer, `${idp.issuer}/oidc/logout?${query}`);
    assert.equal(res.status, 200);
    return res.text();
  };

  test("the session's own sid for that client logs out at once", async () => {
    const { tokens, ua } = await login(spa, 'alice', 'demo-alice');
    assert.match(await pageFor(ua, { client_id: 'spa', logout_hint: tokens.claims()!['sid'] as string }), /data-auto-submit/);
  });

  test('anything else asks: another browser\'s sid, the sid with another client, a made-up sid, an ID token of this session beside another sid', async () => {
    const victim = await login(spa, 'alice', 'demo-alice');
    const elsewhere = await login(spa, 'alice', 'demo-alice');
    const sid = victim.tokens.claims()!['sid'] as string;
    const otherSid = elsewhere.tokens.claims()!['sid'] as string;
    assert.notEqual(otherSid, sid);
    const requests: Array<Record<string, string>> = [
      { client_id: 'spa', logout_hint: otherSid },
      { client_id: 'bff', logout_hint: sid, post_logout_redirect_uri: 'http://localhost:4300/' },
      { client_id: 'spa', logout_hint: 'x'.repeat(sid.length) },
      { client_id: 'spa', logout_hint: '' },
      { id_token_hint: victim.tokens.id_token!, logout_hint: otherSid },
    ];
    for (const params of requests) asksTheUser(await pageFor(victim.ua, params));
    await assertUntouched(victim.ua, victim.tokens.refresh_token!);
  });
});

/** The sign-out page an unproven end-session request shows the victim: its form's action and xsrf. */
async function signOutQuestion(ua: UserAgent, query: string): Promise<{ action: URL; xsrf: string }> {
  const html = await (await followIdpRedirects(ua, idp.issuer, `${idp.issuer}/oidc/logout?${query}`)).text();
  asksTheUser(html);
  return {
    action: new URL(/<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)![1]!, idp.issuer),
    xsrf: /name="xsrf" value="([^"]+)"/.exec(html)![1]!,
  };
}

describe('the sign-out page answered with anything but yes ends nothing (decision 0055)', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const forcedLogout = `client_id=spa&post_logout_redirect_uri=${encodeURIComponent(SPA_REDIRECT_URI)}`;
  const answers: Array<{ what: string; query?: (attackerHint: string) => string; path?: string; post: (xsrf: string) => RequestInit }> = [
    { what: '"No, stay signed in" (the form without logout)', post: (xsrf) => ({ headers: form, body: new URLSearchParams({ xsrf }).toString() }) },
    { what: '"No" to a request carrying another user\'s hint', query: (hint) => `id_token_hint=${hint}&post_logout_redirect_uri=${encodeURIComponent(SPA_REDIRECT_URI)}`, post: (xsrf) => ({ headers: form, body: new URLSearchParams({ xsrf }).toString() }) },
    { what: 'an empty logout value', post: (xsrf) => ({ headers: form, body: new URLSearchParams({ xsrf, logout: '' }).toString() }) },
    { what: 'no body at all', post: () => ({}) },
    { what: '"No" at another spelling of the route', path: '/OIDC/Logout/Confirm/', post: (xsrf) => ({ headers: form, body: new URLSearchParams({ xsrf }).toString() }) },
  ];
  for (const answer of answers) {
    test(answer.what, async () => {
      const victim = await login(spa, 'alice', 'demo-alice');
      const attacker = await login(spa, 'bob', 'demo-bob');
      const { action, xsrf } = await signOutQuestion(victim.ua, answer.query?.(attacker.tokens.id_token!) ?? forcedLogout);
      const res = await victim.ua.request(answer.path ? new URL(answer.path, idp.issuer) : action, { method: 'POST', ...answer.post(xsrf) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /You are still signed in/);
      await assertUntouched(victim.ua, victim.tokens.refresh_token!);
    });
  }
});
