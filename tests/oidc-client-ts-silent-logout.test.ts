// oidc-client-ts's signoutSilent(), unchanged from npm, against the embedded IdP in Chromium: the
// library loads the end-session endpoint (id_token_hint, post_logout_redirect_uri) in a hidden
// iframe and waits for it to come back to its silent callback page. Auth0 answers such a logout
// with a redirect, which the iframe follows; the IdP answers the end-session request it carries
// out at once (a hint of this very session, or no session left to end) with a page that submits
// itself, which the post-logout redirect URI's origin, and no other, may frame. The page that asks
// the user stays unframeable (decision 0051).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { newProfile, type BrowserLog } from './e2e/support/browser.ts';
import { logInAsAlice, openPeerPage, startIdpWithPeerPages, type IdpWithPeerPages } from './support/peers/idp-with-peer-pages.ts';
import { PEER_CLIENT_IDS, type PeerPages } from './support/peers/server.ts';

let stage: IdpWithPeerPages;
let idpOrigin: string;
/** The registered pages, and the same pages on an origin no client registered. */
let peers: PeerPages;
let foreign: PeerPages;
let browser: Browser;

before(async () => {
  stage = await startIdpWithPeerPages();
  ({ idpOrigin, peers, foreign, browser } = stage);
});

after(() => stage?.close());

/** What a silent login (prompt=none) of the browser profile gets back: a code, or an error. */
async function silentLoginAnswer(context: BrowserContext): Promise<{ code: boolean; error: string | null }> {
  const url = new URL('/authorize', idpOrigin);
  url.search = new URLSearchParams({
    client_id: PEER_CLIENT_IDS.oidcClientTs, redirect_uri: peers.oidcClientTs, response_type: 'code', prompt: 'none',
    scope: 'openid', state: 'silent-check', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  }).toString();
  const res = await context.request.get(url.href, { maxRedirects: 0 });
  const answer = new URL(res.headers()['location'] ?? 'about:blank').searchParams;
  return { code: answer.has('code'), error: answer.get('error') };
}

/** The library's silent logout, back to its silent callback page; resolves to 'done' or the library's error. */
const signoutSilent = (page: Page) => page.evaluate(`peer.manager.signoutSilent({ post_logout_redirect_uri: ${JSON.stringify(peers.oidcClientTsSilent)} })
  .then(() => 'done', (err) => err.message)`);

/** The hinted end-session URL the library loads, for the profile's stored ID token. */
async function endSessionUrl(page: Page, postLogoutRedirectUri: string): Promise<string> {
  const idToken = await page.evaluate('peer.manager.getUser().then((u) => u.id_token)') as string;
  const url = new URL('/oidc/logout', idpOrigin);
  url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: postLogoutRedirectUri, client_id: PEER_CLIENT_IDS.oidcClientTs }).toString();
  return url.href;
}

const framingRefused = (m: ConsoleMessage) => /frame-ancestors|X-Frame-Options/.test(m.text());

/** Frames `url` in `page` and waits until the browser reports the framing refused; returns the IdP's answer's headers. */
async function frameRefused(page: Page, url: string): Promise<Record<string, string>> {
  const refused = page.waitForEvent('console', framingRefused);
  const served = page.waitForResponse((r) => r.url() === url);
  await page.evaluate(`document.body.append(Object.assign(document.createElement('iframe'), { src: ${JSON.stringify(url)} }))`);
  const headers = await (await served).allHeaders();
  await refused;
  return headers;
}

describe("oidc-client-ts's signoutSilent", () => {
  test('ends the IdP session from a hidden iframe: the library resolves, the stored user is gone, and a later silent login gets login_required', async () => {
    const log: BrowserLog = { requests: [], cspViolations: [] };
    const context = await newProfile(browser, log);
    const page = await openPeerPage(context, peers.oidcClientTs);
    await logInAsAlice(page, peers.oidcClientTs);
    assert.deepEqual(await silentLoginAnswer(context), { code: true, error: null }, 'signed in at the IdP');

    const logoutPage = page.waitForResponse((r) => r.url().startsWith(`${idpOrigin}/oidc/logout?`));
    assert.equal(await signoutSilent(page), 'done');
    const answer = await logoutPage;
    assert.notEqual(answer.frame(), page.mainFrame(), 'answered inside the iframe');
    const headers = await answer.allHeaders();
    assert.equal(headers['x-frame-options'], undefined);
    assert.match(headers['content-security-policy'] ?? '', new RegExp(`frame-ancestors ${peers.origin}$`), 'the post-logout redirect URI\'s origin, and only it, may frame the page');
    assert.equal(await page.evaluate('peer.manager.getUser()'), null);
    assert.deepEqual(await silentLoginAnswer(context), { code: false, error: 'login_required' }, 'the IdP session is over');
    assert.deepEqual(log.cspViolations, []);
    await context.close();
  });

  test('resolves too when the IdP session has already ended elsewhere (nothing left to end, nothing to ask)', async () => {
    const context = await newProfile(browser, { requests: [], cspViolations: [] });
    const page = await openPeerPage(context, peers.oidcClientTs);
    await logInAsAlice(page, peers.oidcClientTs);
    // Auth0's logout endpoint, as another application of the same user would call it.
    const auth0Logout = new URL('/v2/logout', idpOrigin);
    auth0Logout.search = new URLSearchParams({ client_id: PEER_CLIENT_IDS.oidcClientTs, returnTo: peers.oidcClientTs }).toString();
    assert.equal((await context.request.get(auth0Logout.href, { maxRedirects: 0 })).status(), 302);
    assert.deepEqual(await silentLoginAnswer(context), { code: false, error: 'login_required' });

    assert.equal(await signoutSilent(page), 'done');
    assert.equal(await page.evaluate('peer.manager.getUser()'), null);
    await context.close();
  });
});

describe('framing of the end-session pages stays refused everywhere else', () => {
  test('an origin no client registered cannot frame the page that logs out at once, and the IdP session lives on', async () => {
    const context = await newProfile(browser, { requests: [], cspViolations: [] });
    const page = await openPeerPage(context, peers.oidcClientTs);
    await logInAsAlice(page, peers.oidcClientTs);
    const attacker = await openPeerPage(context, foreign.oidcClientTs);
    const headers = await frameRefused(attacker, await endSessionUrl(page, peers.oidcClientTsSilent));
    assert.match(headers['content-security-policy'] ?? '', new RegExp(`frame-ancestors ${peers.origin}$`), 'the page that logs out at once: only for its post-logout origin');
    assert.deepEqual(await silentLoginAnswer(context), { code: true, error: null }, 'the page never ran: still signed in at the IdP');
    await context.close();
  });

  test('the registered origin cannot frame the page that asks the user (no hint of this session)', async () => {
    const context = await newProfile(browser, { requests: [], cspViolations: [] });
    const page = await openPeerPage(context, peers.oidcClientTs);
    await logInAsAlice(page, peers.oidcClientTs);
    const url = new URL('/oidc/logout', idpOrigin);
    url.search = new URLSearchParams({ client_id: PEER_CLIENT_IDS.oidcClientTs, post_logout_redirect_uri: peers.oidcClientTsSilent }).toString();
    const headers = await frameRefused(page, url.href);
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(await signoutSilent(page).then(() => silentLoginAnswer(context)).then((a) => a.code), false, 'with its hint, the library still signs out');
    await context.close();
  });
});
