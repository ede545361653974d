// Auth0's SPA SDK with its defaults (no refresh tokens, tokens in memory) against the embedded IdP
// configured like a tenant, in Chromium: after a reload the SDK restores the login from the IdP
// session with a silent login (prompt=none, response_mode=web_message) in a hidden iframe, as it
// does against Auth0 when the app and the IdP are same-site. The IdP lets the origin of the
// client's registered redirect URI, and no other, frame that answer; every other page, the login
// page above all, stays unframeable (decision 0041). With refresh tokens and its iframe fallback,
// the silent login after a reload brings a refresh token back, as Auth0's does (decision 0042).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { jwtClaims, newProfile, type BrowserLog } from './e2e/support/browser.ts';
import { logInAsAlice, openPeerPage, PEER_AUDIENCE as AUDIENCE, startIdpWithPeerPages, type IdpWithPeerPages } from './support/peers/idp-with-peer-pages.ts';
import { PEER_CLIENT_IDS, type PeerPages } from './support/peers/server.ts';

let stage: IdpWithPeerPages;
let idpOrigin: string;
/** The registered pages, and the same pages on an origin no client registered. */
let peers: PeerPages;
let foreign: PeerPages;
let browser: Browser;

before(async () => {
  stage = await startIdpWithPeerPages((port) => ({ IDP_ISSUER: `http://localhost:${port}/`, IDP_ACCESS_TOKEN_PROFILE: 'auth0' }));
  ({ idpOrigin, peers, foreign, browser } = stage);
});

after(() => stage?.close());

/** The SDK's options as its README shows them: domain, clientId, redirect_uri, audience; nothing else. */
function defaultOptions(): Record<string, unknown> {
  return { domain: idpOrigin, clientId: PEER_CLIENT_IDS.auth0SpaJs, authorizationParams: { redirect_uri: peers.auth0SpaJs, audience: AUDIENCE, scope: 'openid profile' } };
}

async function addIframe(page: Page, src: string): Promise<void> {
  await page.evaluate(`document.body.append(Object.assign(document.createElement('iframe'), { src: ${JSON.stringify(src)} }))`);
}

/** The grant type of every token request so far (the SDK's worker's included). */
const tokenGrants = (log: BrowserLog) => log.requests.filter((r) => r.url === `${idpOrigin}/oauth/token`).map((r) => new URLSearchParams(r.body ?? '').get('grant_type'));
const isIframeAuthorization = (url: string) => url.startsWith(`${idpOrigin}/authorize?`) && new URL(url).searchParams.get('prompt') === 'none';
const framingRefused = (m: ConsoleMessage) => /frame-ancestors|X-Frame-Options/.test(m.text());

describe("Auth0's SPA SDK with its defaults: the silent login in a hidden iframe", () => {
  test('after a reload, checkSession restores the user from the IdP session and getTokenSilently gets an access token for the API', async () => {
    const log: BrowserLog = { requests: [], cspViolations: [] };
    const context = await newProfile(browser, log);
    const page = await openPeerPage(context, peers.auth0SpaJs);
    await logInAsAlice(page, peers.auth0SpaJs);
    assert.equal(await page.locator('#user').textContent(), 'Alice Example');

    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    assert.equal(await page.locator('#user').textContent(), '', 'the tokens were in memory only: gone with the reload');
    const answered = page.waitForResponse((r) => isIframeAuthorization(r.url()));
    const restored = (await page.evaluate(`(async () => {
      const client = new auth0.Auth0Client(${JSON.stringify(defaultOptions())});
      await client.checkSession();
      return { user: (await client.getUser())?.name, token: await client.getTokenSilently() };
    })()`)) as { user?: string; token: string };
    assert.equal(restored.user, 'Alice Example');
    const claims = jwtClaims(restored.token);
    assert.deepEqual(claims['aud'], [AUDIENCE, `${idpOrigin}/userinfo`]);
    assert.equal(claims['azp'], PEER_CLIENT_IDS.auth0SpaJs);

    const answer = await answered;
    const params = new URL(answer.url()).searchParams;
    assert.equal(params.get('response_mode'), 'web_message');
    assert.notEqual(answer.frame(), page.mainFrame(), 'answered inside the iframe');
    assert.equal(answer.status(), 200);
    const headers = await answer.allHeaders();
    assert.equal(headers['x-frame-options'], undefined);
    assert.match(headers['content-security-policy'] ?? '', new RegExp(`; frame-ancestors ${peers.origin}$`), 'the registered page\'s origin, and only it, may frame the answer');
    assert.deepEqual(log.cspViolations, []);
    await context.close();
  });

  test('without an IdP session getTokenSilently fails with the IdP\'s login_required, read from the iframe', async () => {
    const context = await newProfile(browser, { requests: [], cspViolations: [] });
    const page = await openPeerPage(context, peers.auth0SpaJs);
    const error = await page.evaluate(`new auth0.Auth0Client(${JSON.stringify(defaultOptions())}).getTokenSilently().then(() => 'a token', (err) => err.error)`);
    assert.equal(error, 'login_required');
    await context.close();
  });
});

describe("Auth0's SPA SDK with refresh tokens and its iframe fallback", () => {
  test('after a reload the iframe\'s silent login brings a refresh token back, and the next renewal uses it instead of another iframe', async () => {
    const log: BrowserLog = { requests: [], cspViolations: [] };
    const context = await newProfile(browser, log);
    const page = await openPeerPage(context, peers.auth0SpaJs);
    await logInAsAlice(page, peers.auth0SpaJs);
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    const grantsBefore = tokenGrants(log).length;
    const options = { ...defaultOptions(), useRefreshTokens: true, useRefreshTokensFallback: true, authorizationParams: { redirect_uri: peers.auth0SpaJs, audience: AUDIENCE, scope: 'openid profile offline_access' } };
    await page.evaluate(`(async () => {
      window.withRefreshTokens = new auth0.Auth0Client(${JSON.stringify(options)});
      await window.withRefreshTokens.getTokenSilently();
    })()`);
    const iframes = () => log.requests.filter((r) => isIframeAuthorization(r.url)).length;
    const grants = () => tokenGrants(log).slice(grantsBefore);
    assert.equal(iframes(), 1, 'no refresh token in memory after the reload: the fallback iframe');
    assert.deepEqual(grants(), ['authorization_code'], 'the iframe\'s code redeemed');
    await page.evaluate(`window.withRefreshTokens.getTokenSilently({ cacheMode: 'off' })`);
    assert.equal(iframes(), 1, 'no second iframe');
    assert.deepEqual(grants(), ['authorization_code', 'refresh_token'], 'renewed with the refresh token the silent login brought');
    await context.close();
  });
});

describe('framing stays refused everywhere else', () => {
  /** Frames `url` in `page` and waits until the browser reports the framing refused. */
  async function frameRefused(page: Page, url: string): Promise<void> {
    const refused = page.waitForEvent('console', framingRefused);
    const served = page.waitForResponse((r) => r.url() === url);
    await addIframe(page, url);
    await served;
    await refused;
  }

  test('an origin no client registered cannot frame the web_message answer, and gets no message from it', async () => {
    const context = await newProfile(browser, { requests: [], cspViolations: [] });
    await logInAsAlice(await openPeerPage(context, peers.auth0SpaJs), peers.auth0SpaJs);
    const page = await openPeerPage(context, foreign.auth0SpaJs);
    await page.evaluate("window.seen = []; window.addEventListener('message', (e) => window.seen.push(e.data))");
    const url = new URL('/authorize', idpOrigin);
    url.search = new URLSearchParams({
      client_id: PEER_CLIENT_IDS.auth0SpaJs, redirect_uri: peers.auth0SpaJs, response_type: 'code', response_mode: 'web_message',
      prompt: 'none', scope: 'openid', state: 'state-of-the-frame', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    }).toString();
    const answered = page.waitForResponse((r) => r.url() === url.href);
    await frameRefused(page, url.href);
    const answer = await answered;
    assert.equal(answer.status(), 200, 'the IdP did answer: only the framing rule stopped it');
    assert.match((await answer.allHeaders())['content-security-policy'] ?? '', new RegExp(`frame-ancestors ${peers.origin}$`));
    assert.deepEqual(await page.evaluate('window.seen'), []);
    await context.close();
  });

  test('the registered origin cannot frame the login page', async () => {
    const context = await newProfile(browser, { requests: [], cspViolations: [] });
    const page = await openPeerPage(context, peers.auth0SpaJs);
    const url = new URL('/authorize', idpOrigin);
    url.search = new URLSearchParams({
      client_id: PEER_CLIENT_IDS.auth0SpaJs, redirect_uri: peers.auth0SpaJs, response_type: 'code', response_mode: 'web_message',
      scope: 'openid', state: 'state-of-the-frame', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    }).toString();
    const loginPage = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/interaction/'));
    const refused = page.waitForEvent('console', framingRefused);
    await addIframe(page, url.href);
    const headers = await (await loginPage).allHeaders();
    await refused;
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    await context.close();
  });
});
