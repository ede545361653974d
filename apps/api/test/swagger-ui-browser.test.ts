// Swagger UI in a real browser under its CSP: it renders from local assets only, signs in with
// the authorization code + PKCE flow as the swagger client (the registered redirect URI, the API
// audience), and "Try it out" calls the API with the token it got. Against the real IdP, with its
// login page in the popup: tests/e2e/scenarios/swagger-ui.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../../tests/e2e/support/browser.ts';
import { startApi, type TestApi } from './support/api.ts';
import { AUDIENCE, SCOPE, startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

let idp: TestIssuer;
let api: TestApi;
let browser: Browser;
let base: string;

before(async () => {
  idp = await startTestIssuer();
  // Tokens minted for Swagger UI carry azp=swagger, which the development default allows.
  api = await startApi(idp);
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://localhost:${(api.app.server.address() as { port: number }).port}`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await api?.dispose();
  await idp?.close();
});

test('Swagger UI: renders under its CSP, signs in with code + PKCE, and calls the API', async () => {
  const context = await browser.newContext();
  const violations: string[] = [];
  const foreign: string[] = [];
  context.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (!['localhost', '127.0.0.1'].includes(u.hostname) && u.protocol !== 'data:') foreign.push(r.url());
  });
  const page = await context.newPage();
  await page.goto(`${base}/swagger`);
  // Waits here are bounds on a hang, not on speed: Swagger UI renders its bundle and the spec, and
  // its sign-in opens a window, which takes a slow or busy machine far longer than this one.
  await page.getByText('/api/UserOne').first().waitFor({ timeout: 60_000 });
  assert.ok(await page.getByText('/api/notes').first().isVisible());

  await page.getByRole('button', { name: /Authorize/ }).first().click();
  const dialog = page.locator('.modal-ux');
  await dialog.waitFor();
  const oauthSection = dialog.locator('.auth-container', { hasText: 'oauth2' });
  assert.equal(await oauthSection.locator('input#client_id_authorizationCode').inputValue(), 'swagger');
  // The stand-in IdP answers the authorization request by redirecting straight back with a code;
  // the redirect page hands it to Swagger UI, which redeems it at the token endpoint.
  await oauthSection.locator('button.authorize').click();
  await dialog.getByRole('button', { name: /Logout|Remove authorization/ }).first().waitFor({ timeout: 60_000 });
  const authorize = idp.authorizeRequests.at(-1)!;
  assert.equal(authorize.get('client_id'), 'swagger');
  assert.equal(authorize.get('response_type'), 'code');
  assert.equal(authorize.get('code_challenge_method'), 'S256');
  assert.ok(authorize.get('code_challenge'));
  assert.equal(authorize.get('audience'), AUDIENCE);
  assert.ok(authorize.get('scope')!.split(' ').includes(SCOPE));
  const redirectUri = authorize.get('redirect_uri')!;
  assert.equal(redirectUri, `${base}/swagger/oauth2-redirect.html`, 'the URI registered for the swagger client');
  const form = idp.tokenRequests.at(-1)!;
  assert.equal(form.get('grant_type'), 'authorization_code');
  assert.equal(form.get('code'), 'test-code');
  assert.equal(form.get('client_id'), 'swagger');
  assert.equal(form.get('redirect_uri'), redirectUri);
  assert.ok((form.get('code_verifier') ?? '').length >= 43, 'PKCE verifier sent');
  await dialog.locator('.close-modal').click();
  await dialog.waitFor({ state: 'detached' });

  const op = page.locator('.opblock', { hasText: '/api/UserOne' }).first();
  await op.locator('.opblock-summary').click();
  // tryItOutEnabled: Execute is offered at once.
  await op.getByRole('button', { name: 'Execute' }).click();
  await op.locator('.live-responses-table tbody .response-col_status').first().waitFor();
  assert.equal((await op.locator('.live-responses-table tbody .response-col_status').first().innerText()).trim(), '200');
  assert.match(await op.locator('.live-responses-table .microlight').first().innerText(), /user one data/);

  assert.deepEqual(violations, [], 'no CSP violation');
  assert.deepEqual(foreign, [], 'no request leaves the machine (no CDN)');
  await context.close();
});
