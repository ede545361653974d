// The SPA in BFF mode end to end in Debian's Chromium, against the whole system as `npm start`
// starts it: the token-mode scenarios, no token anywhere in the browser, the session cookie's
// flags, cross-site request forgery from another origin, and back-channel logout from the
// token-mode SPA. Access tokens live 20 s here so that renewals happen during the run.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SESSION_COOKIE } from '../../apps/bff/src/defaults.ts';
import { sha256 } from '../../apps/bff/src/sessions/session-manager.ts';
import { openSqliteSessionStore } from '../../apps/bff/src/sessions/sqlite-session-store.ts';
import { parseTokenKeys, TokenCipher } from '../../apps/bff/src/token-cipher.ts';
import { DEV_BFF_SECRET, tokenRequest } from '../support/oidc-rp.ts';
import { DOM_XSS_SINKS, launchChromium, logIn, newProfile, screenshot, tryDomXssSinks, type BrowserLog } from './support/browser.ts';
import { startSystem, type RunningSystem } from './support/system.ts';

const ACCESS_TOKEN_TTL_SECONDS = 20;
const RENEW_BEFORE_EXPIRY_SECONDS = 8;
/** Upper bound of every wait for something the system does on its own (not a timing assertion). */
const PATIENCE_MS = 60_000;
/** The bound for back-channel logout: the BFF session is gone this soon after the IdP logout. */
const BACKCHANNEL_BOUND_MS = 2_000;
const JWT = /eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]+/;
const TOKEN_KEYS = randomBytes(32).toString('base64');

async function waitUntil(what: string, check: () => Promise<boolean>, patienceMs = PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + patienceMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(100);
  }
}

interface ServerTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
}

describe('SPA in BFF mode end to end in Chromium', { timeout: 600_000 }, () => {
  let system: RunningSystem;
  let browser: Browser;
  const log: BrowserLog = { requests: [], cspViolations: [] };
  /** Every response body any page received, and every URL any page visited or called. */
  const bodies: string[] = [];
  /** Body reads still under way (each is a round trip to the browser, finished whenever it is). */
  const bodyReads = new Set<Promise<void>>();
  const urls: string[] = [];

  before(async () => {
    system = await startSystem({
      env: {
        IDP_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS),
        SPA_RENEW_BEFORE_EXPIRY: String(RENEW_BEFORE_EXPIRY_SECONDS),
        BFF_RENEW_BEFORE_EXPIRY: String(RENEW_BEFORE_EXPIRY_SECONDS),
        BFF_TOKEN_KEYS: TOKEN_KEYS,
      },
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await system?.stop();
  });

  async function newContext(): Promise<BrowserContext> {
    const context = await newProfile(browser, log);
    context.on('request', (request) => urls.push(request.url()));
    context.on('response', (response) => {
      const read = response.body().then((b) => { bodies.push(b.toString('utf8')); }, () => undefined);
      bodyReads.add(read);
      void read.finally(() => bodyReads.delete(read));
    });
    return context;
  }
  const newPage = async () => (await newContext()).newPage();

  async function showsUserData(page: Page): Promise<void> {
    await page.getByTestId('user-data').getByText('user one data').waitFor();
  }

  /** Clicks "Log out" and waits until the IdP's end-session has sent the page back to `origin`. */
  async function logOutThroughIdp(page: Page, origin: string): Promise<void> {
    const atIdp = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(system.idp));
    await page.getByRole('banner').getByRole('button', { name: 'Log out' }).click();
    await atIdp;
    await page.waitForURL((url) => url.origin === origin);
    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
  }

  /** A call the page itself makes to the BFF (same origin, the session cookie goes along). */
  async function fromPage(page: Page, path: string, init: { method?: string; csrf?: boolean; body?: string } = {}): Promise<{ status: number; body: string }> {
    return page.evaluate(async ({ path, init }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (init.csrf !== false) headers['X-CSRF'] = '1';
      const res = await fetch(path, { method: init.method ?? 'GET', headers, credentials: 'same-origin', ...(init.body ? { body: init.body } : {}) });
      return { status: res.status, body: await res.text() };
    }, { path, init });
  }

  async function sessionCookie(context: BrowserContext) {
    return (await context.cookies(system.bff)).find((c) => c.name === SESSION_COOKIE);
  }

  /** What the BFF holds for this browser, read from its store with its key (as only the server can). */
  async function serverTokens(context: BrowserContext): Promise<ServerTokens | undefined> {
    const cookie = await sessionCookie(context);
    if (!cookie) return undefined;
    const store = openSqliteSessionStore(system.dataDirs.bff);
    try {
      const key = sha256(cookie.value);
      const record = await store.get(key, Date.now());
      if (!record) return undefined;
      const { tokens } = JSON.parse(record.payload) as { tokens: string };
      return JSON.parse(new TokenCipher(parseTokenKeys(TOKEN_KEYS)).decrypt(tokens, key)) as ServerTokens;
    } finally {
      await store.close();
    }
  }

  /** Everything the page's JavaScript can read: storage, IndexedDB, document.cookie. */
  async function browserSideState(page: Page): Promise<string> {
    // Runs in the page (a string: this project is compiled without the DOM library).
    return (await page.evaluate(`(async () => {
      const parts = [document.cookie];
      for (const storage of [localStorage, sessionStorage]) {
        for (let i = 0; i < storage.length; i++) parts.push(storage.key(i), storage.getItem(storage.key(i)));
      }
      const request = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });
      for (const info of await indexedDB.databases()) {
        parts.push('indexeddb:' + info.name);
        const db = await request(indexedDB.open(info.name));
        for (const name of Array.from(db.objectStoreNames)) parts.push(JSON.stringify(await request(db.transaction(name).objectStore(name).getAll())));
        db.close();
      }
      return parts.join('\\n');
    })()`)) as string;
  }

  /** No token the BFF holds, and nothing shaped like a JWT, anywhere the browser could see it. */
  async function assertNoTokenInBrowser(page: Page, tokens: ServerTokens): Promise<void> {
    const secrets = [tokens.accessToken, tokens.refreshToken, tokens.idToken].filter((t): t is string => Boolean(t));
    assert.ok(secrets.length >= 2, 'the BFF holds an access and a refresh token');
    // Every response received so far is read out: a body still on its way when this looked would
    // let a token in it pass unseen (a timer turn, as before, did not wait for the browser).
    await Promise.all([...bodyReads]);
    const places: Array<[string, string]> = [
      ['page state (storage, IndexedDB, document.cookie)', await browserSideState(page)],
      ['response bodies', bodies.join('\n')],
      ['URLs', urls.join('\n')],
    ];
    for (const [where, text] of places) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `a token of the BFF is in the browser's ${where}`);
      assert.doesNotMatch(text, JWT, `something shaped like a JWT is in the browser's ${where}`);
    }
  }

  it('alice signs in and sees the API\'s user one data; no token reaches the browser', async () => {
    const page = await newPage();
    await logIn(page, system.bff, 'alice', 'demo-alice');
    await showsUserData(page);
    assert.equal(await page.getByTestId('user-name').textContent(), 'Alice Example');
    const authorize = log.requests.map((r) => new URL(r.url)).find((u) => u.origin === system.idp && u.searchParams.get('client_id') === 'bff');
    assert.ok(authorize, 'the BFF sent the browser to the IdP as the bff client');
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(!log.requests.some((r) => r.authorization !== undefined), 'no request of the browser carried an Authorization header');
    const tokens = await serverTokens(page.context());
    assert.ok(tokens);
    await assertNoTokenInBrowser(page, tokens);
    await screenshot(page, 'bff-home-alice');
    await page.context().close();
  });

  it('the session cookie is __Host-, HttpOnly, Secure, SameSite=Strict, host-only on /, a bare 256-bit id', async () => {
    const page = await newPage();
    await logIn(page, system.bff, 'alice', 'demo-alice');
    const cookie = await sessionCookie(page.context());
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.domain, 'localhost', 'host-only: no Domain attribute');
    assert.equal(cookie.expires, -1, 'a browser-session cookie: the server decides when the session ends');
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!(await page.evaluate('document.cookie') as string).includes(cookie.value), 'JavaScript cannot read it');
    await page.context().close();
  });

  it('bob signs in and is told he may not use the API (403)', async () => {
    const page = await newPage();
    await logIn(page, system.bff, 'bob', 'demo-bob');
    const alert = page.getByRole('main').getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent() ?? '', /not allowed to use this API/);
    assert.equal(await page.getByTestId('user-data').count(), 0);
    await screenshot(page, 'bff-home-bob-forbidden');
    await page.context().close();
  });

  it('notes: add, see after a reload, delete', async () => {
    const page = await newPage();
    await logIn(page, system.bff, 'alice', 'demo-alice');
    await page.getByRole('link', { name: 'Notes' }).click();
    const text = `bff e2e note ${Date.now()}`;
    await page.getByLabel('New note').fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.getByTestId('notes').getByText(text).waitFor();
    await page.reload();
    await page.getByTestId('notes').getByText(text).waitFor();
    await page.getByRole('button', { name: `Delete note: ${text}` }).click();
    await page.getByTestId('notes-status').getByText(`Note deleted: ${text}`).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Notes' }).waitFor();
    await page.getByText('No notes yet.').or(page.getByTestId('notes')).waitFor();
    assert.equal(await page.getByText(text, { exact: true }).count(), 0, 'deleted at the API too');
    await page.context().close();
  });

  it('a reload keeps the session', async () => {
    const page = await newPage();
    await logIn(page, system.bff, 'alice', 'demo-alice');
    await page.reload();
    await page.getByTestId('user-name').waitFor();
    await showsUserData(page);
    await page.context().close();
  });

  it('the session renews itself, the API keeps answering, and still no token reaches the browser', async () => {
    const page = await newPage();
    await logIn(page, system.bff, 'alice', 'demo-alice');
    await showsUserData(page);
    const first = await serverTokens(page.context());
    assert.ok(first);
    // The page stays open and uses the API now and then, as a user would.
    await waitUntil('a renewal at the BFF', async () => {
      assert.equal((await fromPage(page, '/api/UserOne')).status, 200);
      return (await serverTokens(page.context()))?.accessToken !== first.accessToken;
    });
    const renewed = await serverTokens(page.context());
    assert.ok(renewed);
    assert.notEqual(renewed.refreshToken, first.refreshToken, 'the refresh token was rotated');
    await page.getByRole('button', { name: 'Reload data' }).click();
    await showsUserData(page);
    await page.getByRole('link', { name: 'Session' }).click();
    await page.getByTestId('user-name').waitFor();
    await assertNoTokenInBrowser(page, renewed);
    await assertNoTokenInBrowser(page, first);
    await page.context().close();
  });

  it('logout revokes the refresh token at the IdP and ends the IdP session', async () => {
    const page = await newPage();
    await logIn(page, system.bff, 'alice', 'demo-alice');
    const tokens = await serverTokens(page.context());
    assert.ok(tokens?.refreshToken);
    await logOutThroughIdp(page, system.bff);
    assert.equal(await sessionCookie(page.context()), undefined, 'the session cookie is gone');
    assert.equal((await fromPage(page, '/bff/user')).status, 401);

    const refused = await tokenRequest(system.idp, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, ['bff', DEV_BFF_SECRET]);
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'invalid_grant');

    await page.getByRole('banner').getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Password').waitFor();
    await page.context().close();
  });

  it('the user changing in another tab (alice signs out, bob signs in): the other tabs follow at once, and nothing loaded for alice stays', async () => {
    const context = await newContext();
    const notesTab = await context.newPage();
    await logIn(notesTab, system.bff, 'alice', 'demo-alice');
    await notesTab.getByRole('link', { name: 'Notes' }).click();
    const text = `alice's bff note ${Date.now()}`;
    await notesTab.getByLabel('New note').fill(text);
    await notesTab.getByRole('button', { name: 'Add note' }).click();
    await notesTab.getByTestId('notes').getByText(text).waitFor();
    const other = await context.newPage();
    await other.goto(system.bff);
    await showsUserData(other);

    // No call of the notes tab is needed to notice: the other tab says so.
    const backFromIdp = other.waitForResponse((response) => response.request().isNavigationRequest() && response.url() === `${system.bff}/`);
    await logOutThroughIdp(other, system.bff);
    await backFromIdp;
    await notesTab.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    assert.equal(await notesTab.getByText('Your session has ended').count(), 0, 'a sign-out elsewhere is no problem here');
    await logIn(other, system.bff, 'bob', 'demo-bob');
    await notesTab.getByTestId('user-name').getByText('Bob Example').waitFor();
    // Bob may not use the API: the notes page asks again as bob and shows the refusal.
    await notesTab.getByRole('main').getByRole('alert').getByText(/not allowed to use this API/).waitFor();
    assert.equal(await notesTab.getByText(text).count(), 0, 'alice\'s note is no longer on the page');
    await context.close();
  });

  describe('cross-site request forgery', () => {
    let evil: Server;
    let evilOrigin: string;
    let attackerPage = '';

    before(async () => {
      evil = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage));
      // On a port the OS picks as it binds it (no other process can take it first).
      await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
      // Same site as the BFF (localhost, another port): SameSite does not help, only the header check does.
      evilOrigin = `http://localhost:${(evil.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise((resolve) => evil.close(resolve));
    });

    async function notes(page: Page): Promise<string> {
      const res = await fromPage(page, '/api/notes');
      assert.equal(res.status, 200);
      return res.body;
    }

    it('a page on another origin cannot post a note, with fetch credentials:\'include\' or with a plain form', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await logIn(page, system.bff, 'alice', 'demo-alice');
      const before = await notes(page);
      const marker = `forged ${Date.now()}`;
      attackerPage = `<!doctype html><html><body>
<form id="plain" method="post" action="${system.bff}/api/notes" enctype="text/plain"><input name='{"text":"${marker} form","x":"' value='"}'></form>
<script>
  window.results = [];
  const body = JSON.stringify({ text: '${marker} fetch' });
  Promise.allSettled([
    fetch('${system.bff}/api/notes', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'X-CSRF': '1' }, body }),
    fetch('${system.bff}/api/notes', { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body }),
  ]).then((r) => { window.results = r.map((x) => x.status); window.done = true; });
</script></body></html>`;
      const attacker = await context.newPage();
      await attacker.goto(evilOrigin);
      await attacker.waitForFunction('window.done === true');
      await Promise.all([attacker.waitForNavigation(), attacker.evaluate('document.getElementById("plain").submit()')]);
      assert.match(await attacker.content(), /X-CSRF/, 'the form post was refused for the missing header');
      const after = await notes(page);
      assert.equal(after, before, 'no note was created');
      assert.ok(!after.includes(marker));
      await context.close();
    });

    it('/api/* and /bff/* calls without X-CSRF are refused with 403, even from the app\'s own page', async () => {
      const page = await newPage();
      await logIn(page, system.bff, 'alice', 'demo-alice');
      for (const [path, method] of [['/api/UserOne', 'GET'], ['/api/notes', 'POST'], ['/bff/user', 'GET'], ['/bff/logout', 'POST']] as const) {
        const res = await fromPage(page, path, { method, csrf: false, ...(method === 'POST' && path === '/api/notes' ? { body: '{"text":"no header"}' } : {}) });
        assert.equal(res.status, 403, `${method} ${path}`);
      }
      assert.equal((await fromPage(page, '/bff/user')).status, 200, 'the session is still there');
      await page.context().close();
    });
  });

  it('signing out of the token-mode SPA in the same browser ends the BFF session within 2 seconds', async () => {
    const context = await newContext();
    const bffPage = await context.newPage();
    await logIn(bffPage, system.bff, 'alice', 'demo-alice');
    assert.equal((await fromPage(bffPage, '/bff/user')).status, 200);
    // The token-mode SPA in the same browser: single sign-on, no password asked.
    const spaPage = await context.newPage();
    await spaPage.goto(system.spa);
    await spaPage.getByRole('banner').getByRole('button', { name: 'Log in' }).click();
    await spaPage.waitForURL((url) => url.origin === system.spa);
    await spaPage.getByTestId('user-name').waitFor();
    await logOutThroughIdp(spaPage, system.spa);
    await waitUntil('the BFF session to end', async () => (await fromPage(bffPage, '/bff/user')).status === 401, BACKCHANNEL_BOUND_MS);
    await bffPage.reload();
    await bffPage.getByRole('banner').getByRole('button', { name: 'Log in' }).waitFor();
    await context.close();
  });

  it('no page broke its Content-Security-Policy (Trusted Types included: no string reached a DOM-XSS sink, no policy but those named)', () => {
    assert.deepEqual(log.cspViolations, []);
  });

  it('under the CSP the BFF serves the SPA with, a string handed to a DOM-XSS sink by page script is refused (Trusted Types), as is a policy of its own', async () => {
    const attackLog: BrowserLog = { requests: [], cspViolations: [] };
    const page = await (await newProfile(browser, attackLog)).newPage();
    await logIn(page, system.bff, 'alice', 'demo-alice');
    await showsUserData(page);
    const { thrown, inserted } = await tryDomXssSinks(page);
    assert.deepEqual(thrown, Object.fromEntries(DOM_XSS_SINKS.map((sink) => [sink, 'TypeError'])));
    assert.equal(inserted, false, 'none of the markup got into the document');
    assert.match(attackLog.cspViolations.join('\n'), /require-trusted-types-for \(enforce\)/);
    await page.context().close();
  });
});
