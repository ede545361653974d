// Relying parties nobody here wrote, unchanged from npm, against the running system: Auth0's SPA
// SDK and oidc-client-ts on the minimal pages of tests/support/peers/. Each scenario signs in
// through the IdP's real login form and calls the API with the token the library got.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SECURITY_HEADERS } from '@suite/spa-hosting';
import { PEER_CLIENT_IDS, type PeerPages } from '../../support/peers/server.ts';
import { jwtClaims, newProfile, screenshot, type BrowserLog } from '../support/browser.ts';
import type { IdpEndpoints, RunningSystem } from '../support/system.ts';

export interface PeerScenarioSystem {
  system: RunningSystem;
  browser: Browser;
  endpoints: IdpEndpoints;
  peers: PeerPages;
}

const ALICE_DATA = '200 ["user one data"]';

/**
 * Opens a peer page and checks it came with our SPA's security headers (decision 0034: the bench
 * compares the libraries under one header policy); Auth0's SDK page alone keeps its popup's handle.
 */
async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  const headers = (await page.goto(url))?.headers() ?? {};
  const popupOpener = url.endsWith(`/${PEER_CLIENT_IDS.auth0SpaJs}.html`);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    const expected = name === 'Cross-Origin-Opener-Policy' && popupOpener ? 'same-origin-allow-popups' : value;
    assert.equal(headers[name.toLowerCase()], expected, `${url}: ${name}`);
  }
  assert.match(headers['content-security-policy'] ?? '', /^default-src 'none'; script-src 'self';/);
  await page.locator('body[data-ready="true"]').waitFor();
  return page;
}

async function signInOnIdp(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Clicks the page's "Log in", signs in at the IdP and waits until the page shows the API's answer. */
async function logInByRedirect(page: Page, url: string, username: string, password: string): Promise<string> {
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await signInOnIdp(page, username, password);
  await page.waitForURL((u) => u.href.startsWith(url));
  await page.locator('#api:not(:empty)').waitFor();
  return (await page.locator('#api').textContent()) ?? '';
}

function refreshGrants(log: BrowserLog, tokenEndpoint: string): number {
  return log.requests.filter((r) => r.url.split('?')[0] === tokenEndpoint && new URLSearchParams(r.body ?? '').get('grant_type') === 'refresh_token').length;
}

async function refreshRefused(endpoints: IdpEndpoints, clientId: string, refreshToken: string): Promise<void> {
  const res = await fetch(endpoints.token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
  });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
}

export function auth0SpaJsScenarios(started: () => PeerScenarioSystem): void {
  describe('Auth0 SPA SDK (@auth0/auth0-spa-js)', () => {
    let s: PeerScenarioSystem;
    const log: BrowserLog = { requests: [], cspViolations: [] };
    before(() => { s = started(); });

    it('loginWithRedirect through the login form; after the access token expired, getTokenSilently refreshes and the API answers alice', async () => {
      const context = await newProfile(s.browser, log);
      const page = await openPage(context, s.peers.auth0SpaJs);
      assert.equal(await logInByRedirect(page, s.peers.auth0SpaJs, 'alice', 'demo-alice'), ALICE_DATA);
      assert.equal(await page.locator('#user').textContent(), 'Alice Example');
      const first = (await page.evaluate('peer.client.getTokenSilently()')) as string;
      // Wait out the token's own lifetime (the IdP runs with short access tokens here).
      await sleep(Math.max(0, (jwtClaims(first)['exp'] as number) * 1000 - Date.now()) + 1000);
      const refreshesBefore = refreshGrants(log, s.endpoints.token);
      const answer = (await page.evaluate('peer.api()')) as { status: number; body: string };
      assert.deepEqual(answer, { status: 200, body: '["user one data"]' });
      const second = (await page.evaluate('peer.client.getTokenSilently()')) as string;
      assert.notEqual(second, first, 'a new access token');
      assert.ok(refreshGrants(log, s.endpoints.token) > refreshesBefore, 'obtained with the refresh token');
      await screenshot(page, 'auth0-spa-js-alice');
      await context.close();
    });

    it('bob signs in and the API answers 403', async () => {
      const context = await newProfile(s.browser, log);
      const page = await openPage(context, s.peers.auth0SpaJs);
      assert.equal(await logInByRedirect(page, s.peers.auth0SpaJs, 'bob', 'demo-bob'), '403');
      await context.close();
    });

    it('loginWithPopup signs in through the IdP in a popup; logout lands on returnTo and ends the IdP session', async () => {
      const context = await newProfile(s.browser, log);
      const page = await openPage(context, s.peers.auth0SpaJs);
      const popupOpened = page.waitForEvent('popup');
      await page.getByRole('button', { name: 'Log in (popup)' }).click();
      const popup = await popupOpened;
      const closed = popup.waitForEvent('close');
      await signInOnIdp(popup, 'alice', 'demo-alice');
      await closed;
      await page.locator('#api:not(:empty)').waitFor();
      assert.equal(await page.locator('#api').textContent(), ALICE_DATA);
      assert.ok(log.requests.some((r) => r.url.startsWith(s.endpoints.authorization) && new URL(r.url).searchParams.get('response_mode') === 'web_message'));

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL((url) => url.href === s.peers.auth0SpaJs && log.requests.some((r) => new URL(r.url).pathname === '/v2/logout'));
      await page.locator('body[data-ready="true"]').waitFor();
      assert.equal(await page.locator('#user').textContent(), '');
      // The IdP session is over: the next login asks for the password again.
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await page.getByLabel('Password').waitFor();
      assert.deepEqual(log.cspViolations, [], 'our SPA\'s CSP, adapted, lets the SDK work (decision 0034)');
      await context.close();
    });
  });
}

export function oidcClientTsScenarios(started: () => PeerScenarioSystem): void {
  describe('oidc-client-ts', () => {
    let s: PeerScenarioSystem;
    const log: BrowserLog = { requests: [], cspViolations: [] };
    before(() => { s = started(); });

    it('with its defaults: login, profile from userinfo, signinSilent with the refresh token, revokeTokens, signoutRedirect', async () => {
      const context = await newProfile(s.browser, log);
      const page = await openPage(context, s.peers.oidcClientTs);
      const userinfo = page.waitForResponse((r) => r.url() === s.endpoints.userinfo && r.request().method() === 'GET');
      assert.equal(await logInByRedirect(page, s.peers.oidcClientTs, 'alice', 'demo-alice'), ALICE_DATA);
      assert.equal((await userinfo).status(), 200, 'userinfo accepted the access token obtained with the API audience');
      assert.equal(await page.locator('#user').textContent(), 'Alice Example');
      const profile = (await page.evaluate('peer.manager.getUser().then((u) => u.profile)')) as Record<string, unknown>;
      assert.equal(profile['name'], 'Alice Example');

      const before = (await page.evaluate('peer.manager.getUser().then((u) => ({ at: u.access_token, rt: u.refresh_token }))')) as { at: string; rt: string };
      const refreshesBefore = refreshGrants(log, s.endpoints.token);
      await page.evaluate('peer.manager.signinSilent()');
      const after = (await page.evaluate('peer.manager.getUser().then((u) => ({ at: u.access_token, rt: u.refresh_token, name: u.profile.name }))')) as { at: string; rt: string; name: string };
      assert.ok(refreshGrants(log, s.endpoints.token) > refreshesBefore, 'signinSilent used the refresh token');
      // (The access token may come out byte-identical: Auth0's profile has no jti, and iat counts seconds.)
      assert.ok(after.at, 'an access token');
      assert.notEqual(after.rt, before.rt, 'the refresh token was rotated');
      assert.equal(after.name, 'Alice Example', 'the profile survives the refresh');
      assert.deepEqual(await page.evaluate('peer.api()'), { status: 200, body: '["user one data"]' });

      await page.evaluate('peer.manager.revokeTokens()');
      await refreshRefused(s.endpoints, 'oidc-client-ts', after.rt);

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL((url) => url.href === s.peers.oidcClientTs && log.requests.some((r) => r.url.startsWith(s.endpoints.endSession)));
      await page.locator('body[data-ready="true"]').waitFor();
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await page.getByLabel('Password').waitFor();
      await screenshot(page, 'oidc-client-ts-signed-out');
      assert.deepEqual(log.cspViolations, [], 'our SPA\'s CSP lets the library work (decision 0034)');
      await context.close();
    });

    it('signinPopup signs in through the IdP in a popup under the page\'s COOP same-origin: the popup, its opener severed, hands the response back over a BroadcastChannel', async () => {
      const context = await newProfile(s.browser, log);
      const page = await openPage(context, s.peers.oidcClientTs);
      const popupOpened = page.waitForEvent('popup');
      await page.getByRole('button', { name: 'Log in (popup)' }).click();
      const popup = await popupOpened;
      const closed = popup.waitForEvent('close');
      await signInOnIdp(popup, 'alice', 'demo-alice');
      // The popup comes back to the page's own URL with the code, without an opener: COOP
      // same-origin severed it when the popup went to the IdP (unsafe-none), and
      // same-origin-allow-popups would sever it on the way back to a page of that policy (tried).
      // So signinPopupCallback posts the response on a BroadcastChannel named after the request's
      // state (oidc-client-ts 3.x), where the page waits; the page exchanges the code and closes
      // the popup. Without that hand-over the popup closes itself and the page waits for good
      // (seen with the channel stubbed out in the popup).
      await closed;
      await page.locator('#api:not(:empty)').waitFor();
      assert.equal(await page.locator('#api').textContent(), ALICE_DATA);
      assert.equal(await page.locator('#user').textContent(), 'Alice Example');
      assert.equal(page.url(), s.peers.oidcClientTs, 'the page itself never left');
      assert.deepEqual(log.cspViolations, []);
      await context.close();
    });
  });
}

export function oidcClientTsAngularScenarios(started: () => PeerScenarioSystem): void {
  describe('oidc-client-ts in a minimal Angular app (the login round trip bound of the bench)', () => {
    let s: PeerScenarioSystem;
    const log: BrowserLog = { requests: [], cspViolations: [] };
    before(() => { s = started(); });

    it('its production build logs in through the login form and renders the API answer and the profile from its signals', async () => {
      const url = s.peers.oidcClientTsAngular;
      assert.equal(typeof url, 'string', `the Angular app is not served: ${JSON.stringify(url)}`);
      const context = await newProfile(s.browser, log);
      const page = await openPage(context, url as string);
      assert.equal(await logInByRedirect(page, url as string, 'alice', 'demo-alice'), ALICE_DATA);
      assert.equal(await page.locator('#user').textContent(), 'Alice Example');
      assert.equal(page.url(), url, 'the code and state are gone from the address bar');
      const token = log.requests.find((r) => r.url === s.endpoints.token && r.method === 'POST');
      assert.equal(new URLSearchParams(token?.body ?? '').get('client_id'), 'oidc-client-ts-angular', 'its own client');
      assert.deepEqual(log.cspViolations, []);
      await context.close();
    });
  });
}
