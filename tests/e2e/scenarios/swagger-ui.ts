// Swagger UI's "Authorize" against the real IdP, as a developer uses it: the oauth2 flow opens a
// popup, alice signs in on the IdP's login page there, the popup hands the code back to its opener
// (which needs the opener to survive the IdP's pages) and closes; "Try it out" on /api/UserOne then
// answers 200 with the API's default development configuration.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { screenshot, withHangBounds } from '../support/browser.ts';
import type { IdpEndpoints, RunningSystem } from '../support/system.ts';

export function swaggerUiScenario(started: () => { system: RunningSystem; browser: Browser; endpoints: IdpEndpoints }): void {
  describe('Swagger UI', () => {
    let system: RunningSystem;
    let browser: Browser;
    let endpoints: IdpEndpoints;
    before(() => ({ system, browser, endpoints } = started()));

    it('Authorize signs in through the IdP in a popup, then "Try it out" on /api/UserOne answers 200', async () => {
      const context = withHangBounds(await browser.newContext());
      const violations: string[] = [];
      const requests: Array<{ url: URL; body: string | null }> = [];
      context.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`${m.location().url}: ${m.text()}`); });
      context.on('request', (r) => requests.push({ url: new URL(r.url()), body: r.postData() }));
      const page = await context.newPage();
      await page.goto(`${system.api}/swagger`);
      await page.getByText('/api/UserOne').first().waitFor();

      await page.getByRole('button', { name: /Authorize/ }).first().click();
      const dialog = page.locator('.modal-ux');
      const oauth = dialog.locator('.auth-container', { hasText: 'oauth2' });
      assert.equal(await oauth.locator('input#client_id_authorizationCode').inputValue(), 'swagger');
      const popupOpened = page.waitForEvent('popup');
      await oauth.locator('button.authorize').click();
      const popup = await popupOpened;
      await popup.getByLabel('Username').fill('alice');
      await popup.getByLabel('Password').fill('demo-alice');
      await screenshot(popup, 'swagger-popup-login');
      const popupClosed = popup.waitForEvent('close');
      await popup.getByRole('button', { name: 'Sign in' }).click();
      // oauth2-redirect.html closes the popup only after handing the code to window.opener.
      await popupClosed;
      await dialog.getByRole('button', { name: /Logout|Remove authorization/ }).first().waitFor();

      const authorize = requests.map((r) => r.url).find((u) => u.href.startsWith(endpoints.authorization) && u.searchParams.get('client_id') === 'swagger');
      assert.ok(authorize, 'the authorization request went to the IdP');
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(authorize.searchParams.get('redirect_uri'), `${system.api}/swagger/oauth2-redirect.html`);
      // Swagger UI appends its extra parameters (audience) to the token URL's query too.
      const tokenRequest = requests.find((r) => `${r.url.origin}${r.url.pathname}` === endpoints.token && new URLSearchParams(r.body ?? '').get('grant_type') === 'authorization_code');
      assert.ok(tokenRequest, 'Swagger UI redeemed the code at the IdP');
      await dialog.locator('.close-modal').click();
      await dialog.waitFor({ state: 'detached' });

      const operation = page.locator('.opblock', { hasText: '/api/UserOne' }).first();
      await operation.locator('.opblock-summary').click();
      await operation.getByRole('button', { name: 'Execute' }).click();
      const status = operation.locator('.live-responses-table tbody .response-col_status').first();
      await status.waitFor();
      assert.equal((await status.innerText()).trim(), '200');
      assert.deepEqual(JSON.parse(await operation.locator('.live-responses-table .microlight').first().innerText()), ['user one data']);
      await screenshot(page, 'swagger-try-it-out');
      assert.deepEqual(violations, [], 'no page broke its CSP');
      await context.close();
    });
  });
}
