// The SPA's end-to-end scenarios in token mode (the browser holds the tokens), written once and run
// against every system configuration that should pass them: the embedded IdP as it starts by
// default (spa.test.ts) and the same IdP configured like an Auth0 tenant (auth0-tenant.test.ts).
// Call inside a describe whose before() has started the system (with SPA_SCENARIO_ENV) and Chromium.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DOM_XSS_SINKS, jwtClaims, logIn, newProfile, screenshot, storageKeys, storedSession, tryDomXssSinks, type BrowserLog } from '../support/browser.ts';
import type { IdpEndpoints, RunningSystem } from '../support/system.ts';

const ACCESS_TOKEN_TTL_SECONDS = 20;
const RENEW_BEFORE_EXPIRY_SECONDS = 8;

/** Access tokens live 20 s, so that refreshes happen during the run. */
export const SPA_SCENARIO_ENV: Record<string, string> = {
  IDP_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS),
  SPA_RENEW_BEFORE_EXPIRY: String(RENEW_BEFORE_EXPIRY_SECONDS),
};

/** Upper bound of every wait for something the system does on its own (not a timing assertion). */
const PATIENCE_MS = 60_000;

export async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(250);
  }
}

export interface ScenarioSystem {
  system: RunningSystem;
  browser: Browser;
  endpoints: IdpEndpoints;
}

export function spaTokenModeScenarios(started: () => ScenarioSystem): void {
  let system: RunningSystem;
  let browser: Browser;
  let endpoints: IdpEndpoints;
  const log: BrowserLog = { requests: [], cspViolations: [] };
  before(() => ({ system, browser, endpoints } = started()));

  async function newPage(): Promise<Page> {
    return (await newProfile(browser, log)).newPage();
  }

  async function showsUserData(page: Page): Promise<void> {
    await page.getByTestId('user-data').getByText('user one data').waitFor();
  }

  it('alice logs in and sees the API\'s user one data', async () => {
    const page = await newPage();
    // Every address the tab shows, same-document changes (history.replaceState) included.
    const addresses: URL[] = [];
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) addresses.push(new URL(frame.url())); });
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await showsUserData(page);
    assert.equal(await page.getByTestId('user-name').textContent(), 'Alice Example');
    assert.equal(new URL(page.url()).search, '', 'the code and state are gone from the address bar');
    // Taken out of the address bar at start-up (decision 0027), the code never comes back.
    const back = addresses.findIndex((url) => url.origin === system.spa && url.searchParams.has('code'));
    assert.ok(back >= 0, 'the IdP sent the browser back with a code');
    const after = addresses.slice(back + 1);
    assert.ok(after.length > 0, 'the address was replaced after the return');
    for (const url of after) assert.ok(!url.searchParams.has('code') && !url.searchParams.has('state'), `no code or state in ${url.pathname}${url.search}`);
    const authorize = log.requests.map((r) => new URL(r.url)).find((u) => u.origin === system.idp && u.searchParams.get('client_id') === 'spa' && u.searchParams.has('code_challenge'));
    assert.ok(authorize, 'an authorization request went to the IdP');
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorize.searchParams.get('audience'), 'https://auth0-api-spa');
    assert.equal(authorize.searchParams.get('scope'), 'openid profile offline_access auth0-user-api-spa');
    await screenshot(page, 'home-alice');
    await page.context().close();
  });

  it('bob logs in and is told he may not use the API (403)', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'bob', 'demo-bob');
    const alert = page.getByRole('main').getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent() ?? '', /not allowed to use this API/);
    assert.equal(await page.getByTestId('user-data').count(), 0);
    await screenshot(page, 'home-bob-forbidden');
    await page.context().close();
  });

  it('a return whose ID token fails the library\'s checks: the early API call went out with its access token, but its answer is never shown, not even to a session signed in later', async () => {
    const context = await newProfile(browser, log);
    const page = await context.newPage();
    const userOne = `${system.api}/api/UserOne`;
    // The IdP's real token response to this tab's code exchange, its ID token's signature broken:
    // the access token is genuine (the API accepts it), the ID token must be refused by the library.
    let accessToken: string | undefined;
    await page.route(endpoints.token, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as Record<string, unknown>;
      assert.ok(typeof body['access_token'] === 'string' && typeof body['id_token'] === 'string', 'the IdP issued tokens');
      accessToken = body['access_token'];
      await route.fulfill({ response, json: { ...body, id_token: `${body['id_token'].slice(0, -8)}AAAAAAAA` } });
    });
    const apiCalls: { authorization: string | undefined; status: number }[] = [];
    page.on('response', (response) => {
      if (response.url() === userOne && response.request().method() === 'GET') apiCalls.push({ authorization: response.request().headers()['authorization'], status: response.status() });
    });
    const earlyCall = page.waitForResponse((response) => response.url() === userOne && response.request().method() === 'GET');
    await page.goto(system.spa);
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('demo-alice');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === system.spa);
    // The speculative call was made, with the refused response's access token, and answered:
    // an answer the page had in hand when the library refused the tokens.
    const early = await earlyCall;
    assert.ok(accessToken, 'the token response was the tampered one');
    assert.equal(early.request().headers()['authorization'], `Bearer ${accessToken}`);
    assert.equal(early.status(), 200);
    await page.getByRole('alert').getByText('Sign-in did not complete').waitFor();
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    assert.equal(await page.getByTestId('user-data').count(), 0, 'the answer is not on screen');
    assert.equal(await page.getByTestId('user-name').count(), 0, 'not signed in');
    assert.equal(await storedSession(page), null, 'no session stored');
    assert.deepEqual(apiCalls, [{ authorization: `Bearer ${accessToken}`, status: 200 }], 'the app itself made no API call');

    // Bob signs in in another tab of the same browser; this tab follows the shared session. Its
    // API call carries bob's token, which is not the early call's: it goes to the API (403 for
    // bob) and must not be answered with alice's data fetched with the refused response's token.
    // (The IdP's session cookie goes first: with it, the IdP would sign alice in again unasked.)
    await context.clearCookies();
    const other = await context.newPage();
    await logIn(other, system.spa, 'bob', 'demo-bob');
    await page.getByTestId('user-name').getByText('Bob Example').waitFor();
    const alert = page.getByRole('main').getByRole('alert');
    await page.getByTestId('user-data').or(alert).waitFor();
    assert.equal(await page.getByTestId('user-data').count(), 0, 'alice\'s early answer was not shown in bob\'s session');
    assert.match(await alert.textContent() ?? '', /not allowed to use this API/);
    assert.equal(apiCalls.length, 2);
    assert.notEqual(apiCalls[1]?.authorization, `Bearer ${accessToken}`);
    assert.equal(apiCalls[1]?.status, 403);
    await context.close();
  });

  it('a callback link this tab did not ask for (replayed, forged, an error answer) opened in a signed-in browser shows the session, and the session stays', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await showsUserData(page);
    // The address the IdP came back with in this very login: its code is spent, its state used.
    const replayed = log.requests.findLast((r) => r.url.startsWith(`${system.spa}/?code=`))?.url;
    assert.ok(replayed, 'the return from the IdP was seen');
    for (const link of [replayed, `${system.spa}/?code=junk&state=junk`, `${system.spa}/notes?error=access_denied&state=junk`]) {
      const other = await page.context().newPage();
      await other.goto(link);
      // Whichever the start-up ends with (another tab's renewal would later sign a signed-out tab in).
      const logInButton = other.getByRole('banner').getByRole('button', { name: 'Log in' });
      await other.getByTestId('user-name').or(logInButton).waitFor();
      assert.equal(await logInButton.count(), 0, `${link}: signed in`);
      assert.equal(await other.getByTestId('user-name').textContent(), 'Alice Example');
      assert.equal(await other.getByText('Your session has ended').count(), 0, `${link}: no false "session ended"`);
      assert.equal(new URL(other.url()).search, '', `${link}: the code and state are gone from the address bar`);
      await other.close();
    }
    assert.ok(await storedSession(page), 'the session is still stored');
    await page.getByRole('button', { name: 'Reload data' }).click();
    await showsUserData(page);
    assert.equal(await page.getByTestId('user-name').textContent(), 'Alice Example');
    await page.context().close();
  });

  it('a login left at the IdP\'s login page (back to the app) keeps no verifier or state, and the tab later renews by itself', async () => {
    const context = await newProfile(browser, log);
    const page = await context.newPage();
    await page.goto(system.spa);
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Username').waitFor();
    await page.goBack();
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    assert.deepEqual(await page.evaluate('Object.keys(sessionStorage)'), [], 'no PKCE verifier, state or nonce left in the tab');

    // Signed in from another tab, which then closes: this tab alone must renew the session.
    const other = await context.newPage();
    await logIn(other, system.spa, 'alice', 'demo-alice');
    await page.getByTestId('user-name').waitFor();
    await other.close();
    const first = await storedSession(page);
    assert.ok(first);
    await waitUntil('this tab\'s own renewal', async () => (await storedSession(page))?.accessToken !== first.accessToken);
    await context.close();
  });

  it('notes: add, see after a reload, delete', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await page.getByRole('link', { name: 'Notes' }).click();
    const text = `e2e note ${Date.now()}`;
    await page.getByLabel('New note').fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByTestId('notes').getByText(text).waitFor();
    await page.reload();
    await page.getByTestId('notes').getByText(text).waitFor();
    await screenshot(page, 'notes');
    await page.getByRole('button', { name: `Delete note: ${text}` }).click();
    await page.getByTestId('notes-status').getByText(`Note deleted: ${text}`).waitFor();
    assert.equal(await page.getByText(text, { exact: true }).count(), 0);
    await page.reload();
    await page.getByRole('heading', { name: 'Notes' }).waitFor();
    await page.getByText('No notes yet.').or(page.getByTestId('notes')).waitFor();
    assert.equal(await page.getByText(text, { exact: true }).count(), 0, 'deleted at the API too');
    await page.context().close();
  });

  it('the user changing in another tab (alice signs out, bob signs in): the other tabs follow, and nothing loaded for alice stays on their pages', async () => {
    const context = await newProfile(browser, log);
    const page = await context.newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await showsUserData(page);
    await page.getByRole('link', { name: 'Notes' }).click();
    const text = `alice's note ${Date.now()}`;
    await page.getByLabel('New note').fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByTestId('notes').getByText(text).waitFor();
    const home = await context.newPage();
    await home.goto(system.spa);
    await showsUserData(home);

    // In a third tab alice signs out (the other tabs follow), then bob signs in (they follow again).
    const other = await context.newPage();
    await other.goto(system.spa);
    await other.getByTestId('user-name').waitFor();
    // Back from the end-session endpoint: the SPA's page loaded again (its address was the SPA's all along).
    const backFromIdp = other.waitForResponse((response) => response.request().isNavigationRequest() && response.url() === `${system.spa}/`);
    await other.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
    await backFromIdp;
    await other.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    for (const tab of [page, home]) await tab.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    await logIn(other, system.spa, 'bob', 'demo-bob');
    for (const tab of [page, home]) {
      await tab.getByTestId('user-name').getByText('Bob Example').waitFor();
      // Bob may not use the API: each page asks it again as bob, and shows its refusal.
      await tab.getByRole('main').getByRole('alert').getByText(/not allowed to use this API/).waitFor();
    }
    assert.equal(await page.getByText(text).count(), 0, 'alice\'s note is no longer on the notes page');
    assert.equal(await home.getByTestId('user-data').count(), 0, 'alice\'s data is no longer on the home page');
    await context.close();
  });

  it('a reload keeps the session, also once the access token has expired', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await page.reload();
    await page.getByTestId('user-name').waitFor();
    await showsUserData(page);

    // No tab open while the access token expires: nothing can refresh it in the meantime.
    const before = await storedSession(page);
    assert.ok(before);
    const expiresAt = (jwtClaims(before.accessToken)['exp'] as number) * 1000;
    await page.goto('about:blank');
    await sleep(Math.max(0, expiresAt - Date.now()) + 1500);
    await page.goto(`${system.spa}/session`);
    await page.getByTestId('user-name').waitFor();
    await page.getByTestId('countdown').getByText(/^expires in/).waitFor();
    const after = await storedSession(page);
    assert.ok(after);
    assert.notEqual(after.accessToken, before.accessToken, 'a new access token came from the refresh token');
    assert.notEqual(after.refreshToken, before.refreshToken, 'the refresh token was rotated');
    await screenshot(page, 'session');
    await page.context().close();
  });

  it('the session renews itself before the access token expires and the API keeps answering', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await showsUserData(page);
    const first = await storedSession(page);
    assert.ok(first);
    await waitUntil('a renewal', async () => (await storedSession(page))?.accessToken !== first.accessToken);
    const renewed = await storedSession(page);
    assert.ok(renewed);
    // Judged by the IdP's own timestamps, not by when this test happened to look.
    assert.ok((jwtClaims(renewed.accessToken)['iat'] as number) < (jwtClaims(first.accessToken)['exp'] as number), 'renewed ahead of expiry');
    const refresh = log.requests.find((r) => r.url === endpoints.token && new URLSearchParams(r.body ?? '').get('grant_type') === 'refresh_token');
    assert.ok(refresh, 'a refresh_token grant was sent');
    assert.equal(new URLSearchParams(refresh.body ?? '').get('scope'), 'openid profile offline_access auth0-user-api-spa', 'the refresh carries the scope (Auth0 needs it)');
    await page.getByRole('button', { name: 'Reload data' }).click();
    await showsUserData(page);
    await page.getByRole('link', { name: 'Session' }).click();
    await page.getByTestId('last-renewal').getByText(/succeeded/).waitFor();
    await page.context().close();
  });

  it('two tabs of one session (one a duplicate) renewing at the same moment both stay logged in', async () => {
    const first = await newPage();
    await logIn(first, system.spa, 'alice', 'demo-alice');
    await first.goto(`${system.spa}/session`);
    // A duplicated tab starts with a copy of the original's sessionStorage.
    const copied = (await first.evaluate('JSON.stringify(Object.entries(sessionStorage))')) as string;
    const second = await first.context().newPage();
    await second.addInitScript(`for (const [k, v] of ${copied}) sessionStorage.setItem(k, v);`);
    await second.goto(`${system.spa}/session`);
    await second.getByTestId('user-name').waitFor();

    const before = await storedSession(first);
    assert.ok(before);
    for (let round = 0; round < 3; round++) {
      await Promise.all([first, second].map((page) => page.getByRole('button', { name: 'Renew now' }).click()));
      await Promise.all([first, second].map((page) => page.getByRole('button', { name: 'Renew now' }).and(page.locator(':enabled')).waitFor()));
    }
    for (const page of [first, second]) {
      assert.match(await page.getByTestId('last-renewal').textContent() ?? '', /succeeded/);
      await page.getByRole('link', { name: 'Home' }).click();
      await showsUserData(page);
      assert.equal(await page.getByTestId('user-name').textContent(), 'Alice Example');
    }
    // Had any tab reused a rotated refresh token, the IdP would have revoked the whole grant and
    // this renewal would fail (JWT access tokens would still pass the API, so ask the IdP).
    const afterRace = await storedSession(first);
    assert.ok(afterRace);
    assert.notEqual(afterRace.refreshToken, before.refreshToken);
    await first.getByRole('link', { name: 'Session' }).click();
    await first.getByRole('button', { name: 'Renew now' }).click();
    await waitUntil('the renewal after the race', async () => (await storedSession(first))?.refreshToken !== afterRace.refreshToken);
    await first.getByTestId('last-renewal').getByText(/succeeded/).waitFor();
    await first.context().close();
  });

  /** Resolves when `page` leaves for the IdP's end-session endpoint (the logout's last step). */
  function endSessionNavigation(page: Page): Promise<unknown> {
    return page.waitForRequest((request) => request.isNavigationRequest() && request.url().startsWith(endpoints.endSession));
  }

  it('logout revokes the refresh token, ends the IdP session and clears storage, even across tabs', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    const other = await page.context().newPage();
    await other.goto(system.spa);
    await other.getByTestId('user-name').waitFor();
    // The refresh token to capture is the one a successful renewal just issued.
    await page.getByRole('link', { name: 'Session' }).click();
    const beforeRenewal = await storedSession(page);
    await page.getByRole('button', { name: 'Renew now' }).click();
    await page.getByTestId('last-renewal').getByText(/succeeded/).waitFor();
    const captured = await storedSession(page);
    assert.ok(captured);
    assert.notEqual(captured.refreshToken, beforeRenewal?.refreshToken);

    // The page shows "Log in" as soon as the session has ended in the browser, before the
    // revocation's answer; the logout is over once the page has been to the end-session endpoint.
    const leftForEndSession = endSessionNavigation(page);
    await page.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
    await leftForEndSession;
    await page.waitForURL((url) => url.origin === system.spa);
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    await screenshot(page, 'logged-out');
    assert.deepEqual(await storageKeys(page), [], 'nothing left in localStorage or sessionStorage');
    await other.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    // The tab that followed the logout keeps nothing either, not even a per-tab flag.
    assert.deepEqual(await storageKeys(other), [], 'nothing left in the other tab');

    const refused = await fetch(endpoints.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: captured.refreshToken, client_id: 'spa' }),
    });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_grant');

    // The IdP session is over too: logging in again asks for the password.
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Username').waitFor();
    await page.context().close();
  });

  it('a session that ends without a logout (its grant revoked elsewhere) leaves nothing stored, in any tab: on "Renew now" and on a renewal of its own', async () => {
    const revoke = async (page: Page) => {
      const stored = await storedSession(page);
      assert.ok(stored);
      const revoked = await fetch(endpoints.revocation, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: stored.refreshToken, client_id: 'spa' }),
      });
      assert.equal(revoked.status, 200);
    };
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    const other = await page.context().newPage();
    await other.goto(`${system.spa}/notes`);
    await other.getByTestId('user-name').waitFor();
    await page.getByRole('link', { name: 'Session' }).click();
    await revoke(page);
    await page.getByRole('button', { name: 'Renew now' }).click();
    await page.getByRole('alert').getByText('Your session has ended').waitFor();
    await other.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    assert.deepEqual(await storageKeys(page), [], 'nothing left in the tab whose renewal was refused');
    assert.deepEqual(await storageKeys(other), [], 'nothing left in the tab that followed');

    // The same when the tab's own renewal, ahead of expiry, is refused (this tab alone: the tab
    // whose renewal is refused says why, a tab that follows it signs out without a message).
    await other.close();
    await page.context().clearCookies();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await revoke(page);
    await page.getByRole('alert').getByText('Your session has ended').waitFor({ timeout: PATIENCE_MS });
    assert.deepEqual(await storageKeys(page), [], 'nothing left after the refused renewal');
    await page.context().close();
  });

  it('an IdP answering its refreshes 503 (a restart, an overload) ends no session: past the access token the tabs still show the user, say the IdP cannot renew the session and call no API, the refresh token stays through a reload meanwhile, and the tabs carry on by themselves once it answers', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    const other = await page.context().newPage();
    await other.goto(`${system.spa}/notes`);
    await other.getByTestId('user-name').waitFor();
    const before = await storedSession(page);
    assert.ok(before);
    let outage = true;
    let refused = 0;
    await page.context().route(endpoints.token, async (route) => {
      const refresh = new URLSearchParams(route.request().postData() ?? '').get('grant_type') === 'refresh_token';
      if (!outage || !refresh) return route.continue();
      refused++;
      return route.fulfill({ status: 503, contentType: 'application/json', headers: { 'retry-after': '1' }, body: '{"error":"temporarily_unavailable"}' });
    });
    // "Renew now", then the tabs' own renewals, until the access token has expired.
    await page.getByRole('link', { name: 'Session' }).click();
    await page.getByRole('button', { name: 'Renew now' }).click();
    const expiresAt = (jwtClaims(before.accessToken)['exp'] as number) * 1000;
    await waitUntil('the access token expired while the IdP answered 503', async () => Date.now() > expiresAt + 1000 && refused >= 2);
    // Still the user's session, saying the IdP cannot renew it (decision 0076), in both tabs.
    const stillSignedIn = 'Still signed in, but the sign-in service cannot be reached';
    const banner = (tab: Page) => tab.locator('.banner').getByText(stillSignedIn);
    for (const tab of [page, other]) {
      await banner(tab).waitFor();
      assert.equal(await tab.getByTestId('user-name').textContent(), 'Alice Example');
    }
    assert.equal((await storedSession(page))?.refreshToken, before.refreshToken, 'the refresh token is still stored');
    // A start with the expired access token meets the outage too: the page says so at once, and
    // its API call is not sent with the dead token.
    const apiCalls: string[] = [];
    page.on('request', (request) => { if (new URL(request.url()).origin === new URL(system.api).origin) apiCalls.push(`${request.method()} ${request.url()}`); });
    await page.reload();
    await banner(page).waitFor();
    assert.equal(await page.getByTestId('user-name').textContent(), 'Alice Example');
    assert.equal((await storedSession(page))?.refreshToken, before.refreshToken, 'still stored after the reload');
    await page.getByRole('link', { name: 'Home' }).click();
    await page.getByRole('button', { name: 'Reload data' }).click();
    await page.getByRole('main').getByRole('alert').getByText(stillSignedIn).waitFor();
    assert.deepEqual(apiCalls, [], 'no API call while the access token is past and the IdP cannot renew it');
    outage = false;
    for (const tab of [page, other]) await banner(tab).waitFor({ state: 'detached', timeout: PATIENCE_MS });
    assert.equal(await page.getByTestId('user-name').textContent(), 'Alice Example');
    await page.getByRole('button', { name: 'Reload data' }).click();
    await showsUserData(page);
    const after = await storedSession(page);
    assert.ok(after);
    assert.notEqual(after.refreshToken, before.refreshToken, 'renewed with the refresh token kept through the outage');
    await page.context().close();
  });

  it('logout completes even when the revocation call fails', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await page.route(`${endpoints.revocation}`, (route) => route.abort('connectionrefused'));
    const leftForEndSession = endSessionNavigation(page);
    await page.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
    await leftForEndSession;
    await page.waitForURL((url) => url.origin === system.spa);
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    assert.deepEqual(await storageKeys(page), [], 'nothing left in localStorage or sessionStorage');
    await page.context().close();
  });

  it('logout completes when the IdP never answers the revocation, and no token is stored while it waits', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    let revocationSeen!: () => void;
    const revocationSent = new Promise<void>((resolve) => (revocationSeen = resolve));
    // Held for good: the request gets no answer while the page stays.
    await page.route(`${endpoints.revocation}`, () => revocationSeen());
    const leftForEndSession = endSessionNavigation(page);
    await page.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
    await revocationSent;
    await waitUntil('no token stored while the revocation waits for its answer', async () => (await storedSession(page)) === null);
    await leftForEndSession;
    await page.waitForURL((url) => url.origin === system.spa);
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    assert.deepEqual(await storageKeys(page), [], 'nothing left in localStorage or sessionStorage');
    await page.context().close();
  });

  it('an unreachable API and an unreachable IdP each get their own message', async () => {
    const page = await newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await page.route(`${system.api}/**`, (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Reload data' }).click();
    await page.getByRole('main').getByRole('alert').getByText('The API cannot be reached').waitFor();
    await screenshot(page, 'home-api-unreachable');
    await page.context().close();

    const anonymous = await newPage();
    await anonymous.route(`${system.idp}/**`, (route) => route.abort('connectionrefused'));
    await anonymous.goto(system.spa);
    await anonymous.getByRole('banner').getByRole('button', { name: 'Log in' }).click();
    await anonymous.getByRole('alert').getByText('Sign-in is unavailable').waitFor();
    assert.equal(new URL(anonymous.url()).origin, system.spa, 'stayed on the SPA');
    await anonymous.context().close();
  });

  it('is usable by keyboard: skip link first, then the navigation', async () => {
    const page = await newPage();
    await page.goto(system.spa);
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent.trim()'), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement.id'), 'main', 'the skip link lands on the content');
    await page.reload();
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.textContent.trim()'), 'Notes');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Notes' }).waitFor();
    assert.equal(await page.evaluate('document.activeElement.id'), 'main', 'focus moved to the new page');
    assert.equal(await page.title(), 'Notes · OIDC SPA');
    await page.context().close();
  });

  it('the access token went to the API origin only: no other request ever carried it', () => {
    const api = new URL(system.api).origin;
    const withToken = log.requests.filter((r) => r.authorization !== undefined);
    assert.ok(withToken.some((r) => new URL(r.url).origin === api), 'API calls carried the token');
    const elsewhere = withToken.filter((r) => new URL(r.url).origin !== api);
    assert.deepEqual(elsewhere.map((r) => `${r.method} ${r.url}`), []);
    // The app's own HttpClient also called the IdP (token, revocation): those went out bare.
    assert.ok(log.requests.some((r) => [endpoints.token, endpoints.revocation].includes(r.url) && r.method === 'POST' && r.authorization === undefined));
  });

  it('no page broke its Content-Security-Policy (strict CSP, no inline script, Trusted Types: no string reached a DOM-XSS sink, no policy but those named)', () => {
    assert.deepEqual(log.cspViolations, []);
  });

  it('under the served CSP a string handed to a DOM-XSS sink by page script is refused (Trusted Types), as is a policy of its own; each refusal is reported', async () => {
    // A log of its own: these violations are the point here, not a fault of the flows above.
    const attackLog: BrowserLog = { requests: [], cspViolations: [] };
    const page = await (await newProfile(browser, attackLog)).newPage();
    await logIn(page, system.spa, 'alice', 'demo-alice');
    await showsUserData(page);
    const { thrown, inserted } = await tryDomXssSinks(page);
    assert.deepEqual(thrown, Object.fromEntries(DOM_XSS_SINKS.map((sink) => [sink, 'TypeError'])));
    assert.equal(inserted, false, 'none of the markup got into the document');
    const reported = attackLog.cspViolations.join('\n');
    assert.match(reported, /require-trusted-types-for \(enforce\)/);
    assert.match(reported, /trusted-types \(enforce\)/);
    // The app still works after the attempts: its own rendering needs no sink.
    await page.getByRole('link', { name: 'Notes' }).click();
    await page.getByRole('heading', { name: 'Notes' }).waitFor();
    await page.context().close();
  });
}
