// No secret leaves where it should not. The whole system runs as `npm start` starts it (IdP, API,
// SPA server, BFF; every app logging at debug level, its most talkative), with a known canary for
// every configured secret (client secrets, the IdP's cookie key, the BFF's token key, alice's
// password), and the flows that matter are driven over HTTP, the failing ones included: a wrong
// password, a password typed into the username field, a wrong client secret, forged and replayed
// codes and tokens, a token in a query string, a reused refresh token, a revoked grant behind a
// BFF session, forged back-channel logout tokens, callbacks replayed and forged. Every token, code,
// refresh token, session id, IdP cookie, PKCE verifier and nonce these flows produce becomes a
// canary too. Then no log line of any app, no error answer, no redirect URL and no file of the SPA
// as its two servers send it may carry any canary (the protocol's own places excepted: a code in
// the redirect to its client, a nonce in the authorization request, an ID token as the
// end-session hint), and every file in the apps' data directories is their owner's only. Last,
// each app refusing a bad configuration at start-up shows none of the secrets it was given.
// What counts as a secret's safe trace: a hash or a short prefix of one (the BFF's session
// reference), a grant id, a subject; never the value itself.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { SESSION_COOKIE } from '../apps/bff/src/defaults.ts';
import { loginCookieName, LoginSealer } from '../apps/bff/src/login-cookie.ts';
import { sha256 } from '../apps/bff/src/sessions/session-manager.ts';
import { SQLITE_FILE as BFF_SQLITE_FILE } from '../apps/bff/src/sessions/sqlite-session-store.ts';
import { parseTokenKeys, TokenCipher } from '../apps/bff/src/token-cipher.ts';
import { hashPassword } from '../apps/idp/src/password-hash.ts';
import { startSystem, type RunningSystem } from './e2e/support/system.ts';
import { CookieJar } from './support/oidc-rp.ts';

const root = join(import.meta.dirname, '..');
/** The SPA build both servers host (built by the system's start when missing or stale). */
const SPA_DIST = join(root, 'apps', 'spa', 'dist', 'spa', 'browser');
const hex = (bytes = 12) => randomBytes(bytes).toString('hex');

/** The configured secrets: each a value nobody else would write. */
const CONFIGURED = {
  API_CLIENT_SECRET: `canary-api-secret-${hex()}`,
  BFF_CLIENT_SECRET: `canary-bff-secret-${hex()}`,
  SERVICE_CLIENT_SECRET: `canary-service-secret-${hex()}`,
  IDP_COOKIE_KEYS: `canary-idp-cookie-key-${hex(16)}`,
  BFF_TOKEN_KEYS: randomBytes(32).toString('base64'),
};
const ALICE_PASSWORD = `canary-alice-password-${hex()}`;
/** Typed by users where they should not be: into the username field, or a wrong password. */
const TYPED = {
  passwordAsUsername: `canary-typed-as-username-${hex()}`,
  wrongPassword: `canary-wrong-password-${hex()}`,
  wrongClientSecret: `canary-wrong-client-secret-${hex()}`,
};

interface Seen {
  method: string;
  url: string;
  status: number;
  location: string | null;
  /** The answer's body when it refused (status 400 and above). */
  errorBody?: string;
}

/** Something the system produced or was given that must stay where it belongs. */
interface Canary {
  what: string;
  value: string;
}

// A hang bound only, as the e2e tests': a fresh clone builds the SPA before the system is up.
describe('secrets: no log line, error answer or redirect URL of any app carries a secret', { timeout: 600_000 }, () => {
  let system: RunningSystem;
  let dir: string;
  const seen: Seen[] = [];
  const canaries: Canary[] = [];
  const canary = (what: string, value: string | undefined | null) => {
    if (value) canaries.push({ what, value });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-canary-'));
    const users = JSON.parse(readFileSync(join(root, 'apps', 'idp', 'config', 'demo-users.json'), 'utf8')) as { users: Array<Record<string, unknown>> };
    users.users[0]!['passwordHash'] = await hashPassword(ALICE_PASSWORD);
    const usersFile = join(dir, 'users.json');
    writeFileSync(usersFile, JSON.stringify(users));
    system = await startSystem({
      env: {
        ...CONFIGURED,
        IDP_USERS_FILE: usersFile,
        IDP_LOG_LEVEL: 'debug',
        API_LOG_LEVEL: 'debug',
        BFF_LOG_LEVEL: 'debug',
        // A reused refresh token revokes its grant at once (no retry window).
        IDP_REFRESH_TOKEN_REUSE_INTERVAL: '0',
      },
    });
    for (const [name, value] of Object.entries(CONFIGURED)) canary(name, value);
    canary('alice\'s password', ALICE_PASSWORD);
    for (const [name, value] of Object.entries(TYPED)) canary(name, value);
  });

  after(async () => {
    await system?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A browser: a cookie jar, no redirects followed, every answer recorded. */
  function browser() {
    const jar = new CookieJar();
    return {
      jar,
      async request(url: string | URL, init: RequestInit = {}): Promise<{ res: Response; body: string }> {
        const headers = new Headers(init.headers);
        if (jar.cookies.size) headers.set('cookie', jar.header());
        const res = await fetch(url, { ...init, headers, redirect: 'manual' });
        jar.store(res);
        const body = await res.text();
        seen.push({ method: init.method ?? 'GET', url: String(url), status: res.status, location: res.headers.get('location'), ...(res.status >= 400 ? { errorBody: body } : {}) });
        return { res, body };
      },
    };
  }
  type Browser = ReturnType<typeof browser>;

  /** Follows redirects within the IdP; answers the first that leaves it, or the page shown. */
  async function atIdp(b: Browser, url: string | URL, init?: RequestInit): Promise<{ res: Response; body: string }> {
    let answer = await b.request(url, init);
    for (let hops = 0; hops < 10; hops++) {
      const location = answer.res.headers.get('location');
      if (!location) return answer;
      const next = new URL(location, system.idp);
      if (next.origin !== system.idp) return answer;
      answer = await b.request(next);
    }
    throw new Error('too many redirects at the IdP');
  }

  /** Submits the IdP's login form shown in `page`; answers the IdP's last answer. */
  async function submitLogin(b: Browser, page: string, username: string, password: string) {
    const action = /<form method="post" action="([^"]+\/login)"/.exec(page)?.[1];
    assert.ok(action, 'the IdP shows its login form');
    return atIdp(b, new URL(action, system.idp), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }).toString(),
    });
  }

  function idpCookies(b: Browser): void {
    // Not the interaction cookies' own values: each is the interaction's id, which its URL names by
    // design (their signatures, which make them usable, are canaries).
    for (const [name, value] of b.jar.cookies) if (name.startsWith('_') && !/^_interaction(_resume)?$/.test(name)) canary(`the IdP's cookie ${name}`, value);
  }

  const form = (fields: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  async function tokenRequest(b: Browser, fields: Record<string, string>, auth?: [string, string]) {
    const init = form(fields);
    const { res, body } = await b.request(new URL('/oauth/token', system.idp), { ...init, headers: { ...init.headers, ...(auth ? { authorization: basic(...auth) } : {}) } });
    return { status: res.status, json: JSON.parse(body) as Record<string, string> };
  }

  /** The token-mode SPA's login, as its library makes it, with the login form filled by `fill`. */
  async function spaLogin(b: Browser, fill: (page: string) => Promise<{ res: Response; body: string }>) {
    const verifier = randomBytes(32).toString('base64url');
    canary('a token-mode PKCE verifier', verifier);
    const state = hex();
    const authorize = new URL('/authorize', system.idp);
    authorize.search = new URLSearchParams({
      client_id: 'spa', response_type: 'code', redirect_uri: system.spa, state, nonce: hex(),
      scope: 'openid profile offline_access auth0-user-api-spa', audience: 'https://auth0-api-spa',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    }).toString();
    const page = await atIdp(b, authorize);
    // A browser signed in at the IdP comes straight back.
    const back = page.res.status === 200 ? await fill(page.body) : page;
    idpCookies(b);
    const location = back.res.headers.get('location') ?? '';
    assert.ok(location.startsWith(system.spa), `back at the SPA, not ${back.res.status} ${location}`);
    const code = new URL(location).searchParams.get('code')!;
    canary('a token-mode authorization code', code);
    // The browser loads the SPA at its callback address: the SPA server sees the code.
    assert.equal((await b.request(location)).res.status, 200);
    return { code, verifier };
  }

  async function exchange(b: Browser, code: string, verifier: string) {
    const { status, json } = await tokenRequest(b, { grant_type: 'authorization_code', client_id: 'spa', code, code_verifier: verifier, redirect_uri: system.spa });
    assert.equal(status, 200, JSON.stringify(json));
    canary('a token-mode access token', json['access_token']);
    canary('a token-mode refresh token', json['refresh_token']);
    canary('a token-mode ID token', json['id_token']);
    return json;
  }

  it('token mode: logins (a wrong password, a password typed as the username), the API, refresh and its reuse, a replayed code, forged tokens, revocation, logout', async () => {
    const b = browser();
    // Failing logins first, then the right one on the same page's next form.
    const { code, verifier } = await spaLogin(b, async (page) => {
      const wrong = await submitLogin(b, page, 'alice', TYPED.wrongPassword);
      assert.equal(wrong.res.status, 401, 'the login form again');
      const misplaced = await submitLogin(b, wrong.body, TYPED.passwordAsUsername, TYPED.wrongPassword);
      assert.equal(misplaced.res.status, 401, 'the login form again');
      return submitLogin(b, misplaced.body, 'alice', ALICE_PASSWORD);
    });
    const tokens = await exchange(b, code, verifier);
    const at = tokens['access_token']!;

    // The API: good calls, and refused ones.
    const api = (path: string, init: RequestInit = {}, token = at) => b.request(new URL(path, system.api), { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });
    assert.equal((await api('/api/UserOne')).res.status, 200);
    assert.equal((await api('/api/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a note' }) })).res.status, 201);
    const [h, p, s] = at.split('.');
    const forged = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    canary('a forged access token', forged);
    assert.equal((await api('/api/UserOne', {}, forged)).res.status, 401);
    const otherPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'openid' })).toString('base64url');
    const tampered = `${h}.${otherPayload}.${s}`;
    canary('a tampered access token', tampered);
    assert.equal((await api('/api/UserOne', {}, tampered)).res.status, 401);
    assert.equal((await api(`/api/UserOne?access_token=${encodeURIComponent(at)}`, {}, '')).res.status, 401);
    assert.equal((await api(`/api/notes?access_token=${encodeURIComponent(at)}`)).res.status, 400, 'a token sent twice');
    assert.equal((await api('/api/UserOne', { headers: { authorization: `Basic ${Buffer.from(`alice:${ALICE_PASSWORD}`).toString('base64')}` } }, '')).res.status, 401);
    assert.equal((await api('/api/nowhere')).res.status, 404);

    // Userinfo, refresh, and a refresh token used twice (the grant is revoked).
    assert.equal((await b.request(new URL('/userinfo', system.idp), { headers: { authorization: `Bearer ${at}` } })).res.status, 200);
    const first = tokens['refresh_token']!;
    const refreshed = await tokenRequest(b, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: first });
    assert.equal(refreshed.status, 200);
    canary('a refreshed access token', refreshed.json['access_token']);
    canary('a rotated refresh token', refreshed.json['refresh_token']);
    canary('a refreshed ID token', refreshed.json['id_token']);
    const reuse = await tokenRequest(b, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: first });
    assert.equal(reuse.status, 400);
    const afterReuse = await tokenRequest(b, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: refreshed.json['refresh_token']! });
    assert.equal(afterReuse.status, 400, 'the reuse revoked the grant');

    // A second login: its code replayed, then the new refresh token revoked, then logout.
    const again = await spaLogin(b, (page) => submitLogin(b, page, 'alice', ALICE_PASSWORD));
    const second = await exchange(b, again.code, again.verifier);
    const replayed = await tokenRequest(b, { grant_type: 'authorization_code', client_id: 'spa', code: again.code, code_verifier: again.verifier, redirect_uri: system.spa });
    assert.equal(replayed.status, 400);
    const wrongVerifier = await tokenRequest(b, { grant_type: 'authorization_code', client_id: 'spa', code: again.code, code_verifier: TYPED.wrongPassword, redirect_uri: system.spa });
    assert.equal(wrongVerifier.status, 400);

    // Confidential clients with a wrong secret, and introspection with the right and a wrong one.
    assert.equal((await tokenRequest(b, { grant_type: 'refresh_token', refresh_token: second['refresh_token']! }, ['bff', TYPED.wrongClientSecret])).status, 401);
    const introspect = (secret: string) => b.request(new URL('/oauth/introspect', system.idp), { ...form({ token: second['access_token']! }), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('api', secret) } });
    assert.equal((await introspect(CONFIGURED.API_CLIENT_SECRET)).res.status, 200);
    assert.equal((await introspect(TYPED.wrongClientSecret)).res.status, 401);
    const clientSecretPost = await b.request(new URL('/oauth/token', system.idp), form({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'api', client_secret: TYPED.wrongClientSecret }));
    assert.equal(clientSecretPost.res.status, 401);

    // The machine-to-machine client: its token by secret in the body and in Basic, at the API's
    // service route; then a wrong secret, a scope and an audience it was not granted.
    const service = { grant_type: 'client_credentials', audience: 'https://auth0-api-spa', scope: 'auth0-service-api' };
    const byPost = await tokenRequest(b, { ...service, client_id: 'service', client_secret: CONFIGURED.SERVICE_CLIENT_SECRET });
    assert.equal(byPost.status, 200);
    canary('a machine-to-machine access token', byPost.json['access_token']);
    const byBasic = await tokenRequest(b, service, ['service', CONFIGURED.SERVICE_CLIENT_SECRET]);
    assert.equal(byBasic.status, 200);
    canary('a second machine-to-machine access token', byBasic.json['access_token']);
    assert.equal((await api('/api/ServiceOne', {}, byPost.json['access_token'])).res.status, 200);
    assert.equal((await tokenRequest(b, service, ['service', TYPED.wrongClientSecret])).status, 401);
    assert.equal((await tokenRequest(b, { ...service, scope: 'auth0-user-api-spa' }, ['service', CONFIGURED.SERVICE_CLIENT_SECRET])).status, 403);
    assert.equal((await tokenRequest(b, { ...service, audience: 'https://no-such-api' }, ['service', CONFIGURED.SERVICE_CLIENT_SECRET])).status, 403);

    // The SPA's logout: the refresh token revoked, then end-session with the ID token as hint.
    assert.equal((await b.request(new URL('/oauth/revoke', system.idp), form({ client_id: 'spa', token: second['refresh_token']!, token_type_hint: 'refresh_token' }))).res.status, 200);
    const endSession = new URL('/oidc/logout', system.idp);
    endSession.search = new URLSearchParams({ id_token_hint: second['id_token']!, post_logout_redirect_uri: system.spa }).toString();
    const logoutPage = await atIdp(b, endSession);
    const action = /<form data-auto-submit id="op.logoutForm" method="post" action="([^"]+)"/.exec(logoutPage.body)?.[1];
    assert.ok(action, 'the end-session page submits itself');
    const fields = Object.fromEntries([...logoutPage.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const done = await atIdp(b, new URL(action, system.idp), form(fields));
    assert.ok(done.res.headers.get('location')?.startsWith(system.spa), 'back at the SPA');
  });

  /** The tokens the BFF keeps for the session of `cookie`, read from its store as the BFF does. */
  function bffTokens(cookie: string): Record<string, string> {
    const db = new DatabaseSync(join(system.dataDirs.bff, BFF_SQLITE_FILE), { readOnly: true });
    try {
      const key = sha256(cookie);
      const row = db.prepare('SELECT payload FROM session WHERE key = ?').get(key);
      assert.ok(row, 'the BFF keeps the session');
      const { tokens } = JSON.parse(String(row['payload'])) as { tokens: string };
      return JSON.parse(new TokenCipher(parseTokenKeys(CONFIGURED.BFF_TOKEN_KEYS)).decrypt(tokens, key)) as Record<string, string>;
    } finally {
      db.close();
    }
  }

  function bffTokenCanaries(cookie: string): Record<string, string> {
    const tokens = bffTokens(cookie);
    for (const [name, value] of Object.entries(tokens)) if (typeof value === 'string' && name.endsWith('Token')) canary(`the BFF's ${name}`, value);
    return tokens;
  }

  /** The login the BFF seals into the browser's cookie while the user is at the IdP: nonce, PKCE verifier (decision 0071). */
  function bffPendingLogin(b: Browser, state: string): void {
    const name = loginCookieName(state);
    const value = b.jar.cookies.get(name);
    assert.ok(value, 'the login\'s cookie');
    const login = new LoginSealer(parseTokenKeys(CONFIGURED.BFF_TOKEN_KEYS)).open(name, value, Date.now());
    assert.ok(login, 'sealed with the configured keys');
    canary('a BFF login\'s nonce', login.nonce);
    canary('a BFF login\'s PKCE verifier', login.codeVerifier);
    canary('a BFF login cookie', value);
  }

  /** Signs in through the BFF; answers the callback URL the IdP sent the browser to. */
  async function bffLogin(b: Browser): Promise<string> {
    const start = await b.request(`${system.bff}/bff/login?returnTo=/notes`);
    assert.equal(start.res.status, 302);
    bffPendingLogin(b, new URL(start.res.headers.get('location')!).searchParams.get('state')!);
    const page = await atIdp(b, start.res.headers.get('location')!);
    const back = page.body.includes('action=') ? await submitLogin(b, page.body, 'alice', ALICE_PASSWORD) : page;
    idpCookies(b);
    const callback = back.res.headers.get('location')!;
    assert.ok(callback.startsWith(`${system.bff}/bff/callback?`), `back at the BFF, not ${callback}`);
    canary('a BFF authorization code', new URL(callback).searchParams.get('code'));
    const done = await b.request(callback);
    assert.equal(done.res.status, 302);
    const cookie = b.jar.cookies.get(SESSION_COOKIE);
    assert.ok(cookie, 'a session cookie');
    canary('a BFF session id', cookie);
    return callback;
  }

  it('BFF mode: login, API calls, renewal, replayed and forged callbacks, forged cookies and logout tokens, a revoked grant, logout', async () => {
    const b = browser();
    const callback = await bffLogin(b);
    const call = (path: string, init: RequestInit = {}) => b.request(`${system.bff}${path}`, { ...init, headers: { 'x-csrf': '1', ...init.headers } });
    assert.equal((await call('/bff/user')).res.status, 200);
    assert.equal((await call('/api/UserOne')).res.status, 200);
    assert.equal((await call('/api/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a note' }) })).res.status, 201);
    const cookie = b.jar.cookies.get(SESSION_COOKIE)!;
    bffTokenCanaries(cookie);
    assert.equal((await call('/bff/renew', { method: 'POST' })).res.status, 200);
    const renewed = bffTokenCanaries(cookie);

    // Refused: no CSRF header, the callback replayed, a forged state, a forged session cookie,
    // forged back-channel logout tokens.
    assert.equal((await b.request(`${system.bff}/api/UserOne`)).res.status, 403);
    assert.equal((await b.request(callback)).res.status, 400);
    const forgedState = new URL(callback);
    forgedState.searchParams.set('state', hex());
    assert.equal((await b.request(forgedState)).res.status, 400);
    const forgedCookie = `${cookie.slice(0, -4)}AAAA`;
    canary('a forged BFF session id', forgedCookie);
    assert.equal((await fetch(`${system.bff}/bff/user`, { headers: { 'x-csrf': '1', cookie: `${SESSION_COOKIE}=${forgedCookie}` } })).status, 401);
    const idToken = renewed['idToken']!;
    const [h, p] = idToken.split('.');
    for (const logoutToken of [`${h}.${p}.AAAA`, idToken]) {
      assert.equal((await b.request(`${system.bff}/bff/backchannel`, form({ logout_token: logoutToken }))).res.status, 400);
    }

    // The grant revoked at the IdP behind the session's back: the next renewal ends the session.
    const other = browser();
    await bffLogin(other);
    const otherCookie = other.jar.cookies.get(SESSION_COOKIE)!;
    const otherTokens = bffTokenCanaries(otherCookie);
    const revoked = await b.request(new URL('/oauth/revoke', system.idp), { ...form({ token: otherTokens['refreshToken']!, token_type_hint: 'refresh_token' }), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('bff', CONFIGURED.BFF_CLIENT_SECRET) } });
    assert.equal(revoked.res.status, 200);
    const ended = await other.request(`${system.bff}/bff/renew`, { method: 'POST', headers: { 'x-csrf': '1' } });
    assert.equal(ended.res.status, 401);

    // Logout; the ended session's cookie afterwards.
    const logout = await call('/bff/logout', { method: 'POST' });
    assert.equal(logout.res.status, 200);
    const { redirectTo } = JSON.parse(logout.body) as { redirectTo: string };
    seen.push({ method: 'GET', url: '(the BFF logout answer)', status: 302, location: redirectTo });
    assert.equal((await fetch(`${system.bff}/bff/user`, { headers: { 'x-csrf': '1', cookie: `${SESSION_COOKIE}=${cookie}` } })).status, 401);
  });

  /**
   * Where the protocol itself puts a value: the code (and state) in the redirect to the client's
   * registered redirect URI, and an ID token as the end-session request's hint, whether the SPA
   * or the BFF sends the browser there. Nothing else, and never in a log line or an error answer.
   */
  function allowedInRedirect(location: string, c: Canary): boolean {
    const url = new URL(location, system.idp);
    if (/authorization code/.test(c.what)) return url.searchParams.get('code') === c.value && (location.startsWith(system.spa) || location.startsWith(`${system.bff}/bff/callback?`));
    if (/ID token|idToken/.test(c.what)) return url.pathname === '/oidc/logout' && url.searchParams.get('id_token_hint') === c.value;
    if (/nonce/.test(c.what)) return url.pathname === '/authorize' && url.searchParams.get('nonce') === c.value;
    return false;
  }

  /**
   * The login form's answer to a failed attempt shows the username field as the user filled it
   * (a password typed there included): it goes back to the browser that typed it, as on Auth0's
   * login page; the log names no unknown username.
   */
  function allowedInAnswer(s: Seen, c: Canary): boolean {
    return c.value === TYPED.passwordAsUsername && s.method === 'POST' && /\/interaction\/[\w-]+\/login$/.test(s.url);
  }

  /** Every file of the SPA build as the two servers that host it send it, runtime configuration included. */
  async function servedSpa(): Promise<string[]> {
    const pages = await Promise.all([system.spa, system.bff].map(async (origin) => (await fetch(`${origin}/`)).text()));
    const scripts = readdirSync(SPA_DIST).filter((f) => /\.(js|css|html)$/.test(f));
    return [...pages, ...scripts.map((f) => readFileSync(join(SPA_DIST, f), 'utf8'))];
  }

  it('no log line, no error answer, no redirect URL, no file of the SPA carries a canary', async () => {
    const logs = system.output().split('\n');
    const spaFiles = await servedSpa();
    const found: string[] = [];
    for (const c of canaries) {
      const line = logs.find((l) => l.includes(c.value));
      if (line) found.push(`${c.what} in a log line: ${line.slice(0, 400)}`);
      for (const s of seen) {
        if (s.errorBody?.includes(c.value) && !allowedInAnswer(s, c)) found.push(`${c.what} in the ${s.status} answer to ${s.method} ${s.url.slice(0, 120)}: ${s.errorBody.slice(0, 300)}`);
        if (s.location?.includes(c.value) && !allowedInRedirect(s.location, c)) found.push(`${c.what} in the redirect from ${s.method} ${s.url.slice(0, 120)} to ${s.location.slice(0, 300)}`);
      }
      if (spaFiles.some((f) => f.includes(c.value))) found.push(`${c.what} in a file of the SPA`);
    }
    assert.deepEqual(found, []);
    // The checks saw what they were meant to: each app's lines, the flows' refusals and redirects.
    for (const app of ['idp', 'api', 'bff', 'spa']) assert.ok(logs.some((l) => l.includes(`"app":"${app}"`)), `${app} logged`);
    assert.ok(seen.filter((s) => s.errorBody !== undefined).length >= 20 && seen.some((s) => s.location?.includes('code=')));
  });

  it('every file the apps keep in their data directories is their owner\'s only', () => {
    const loose: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if ((statSync(path).mode & 0o077) !== 0) loose.push(`${path} ${(statSync(path).mode & 0o777).toString(8)}`);
        if (entry.isDirectory()) walk(path);
      }
    };
    for (const dir of Object.values(system.dataDirs)) {
      assert.equal(statSync(dir).mode & 0o777, 0o700, `${dir}: made by its app`);
      walk(dir);
    }
    assert.deepEqual(loose, []);
  });
});

/**
 * Each app refusing to start on a bad configuration (exit code 2) names the variables, never a
 * secret given in them: secrets with white space around them, a URL whose password or token makes
 * it invalid (an unescaped #, /, ?; a bad port; a token as the user part or in the query).
 */
describe('secrets: a start-up refusal shows no secret it was given', { timeout: 120_000 }, () => {
  const C = `canary-${hex()}`;
  const refusals: Array<{ app: string; server: string; env: Record<string, string>; names: string[] }> = [
    {
      app: 'idp', server: 'apps/idp/src/server.ts',
      env: { IDP_STORE: 'redis', IDP_REDIS_URL: `redis://:p#${C}@redis.test:6379/0`, IDP_COOKIE_KEYS: `${C},short`, BFF_CLIENT_SECRET: ` ${C}`, API_CLIENT_SECRET: `${C}\n`, SERVICE_CLIENT_SECRET: `${C}\t` },
      names: ['IDP_REDIS_URL', 'IDP_COOKIE_KEYS', 'BFF_CLIENT_SECRET', 'API_CLIENT_SECRET', 'SERVICE_CLIENT_SECRET'],
    },
    {
      app: 'api', server: 'apps/api/src/server.ts',
      env: { API_CLIENT_SECRET: ` ${C}`, AUTH_AUTHORITY: `http://u:${C}@idp.test:99999`, API_CORS_ORIGINS: `http://localhost:4200,http://u:${C}@spa.test:99999` },
      names: ['API_CLIENT_SECRET', 'AUTH_AUTHORITY', 'API_CORS_ORIGINS'],
    },
    {
      app: 'bff', server: 'apps/bff/src/server.ts',
      env: { BFF_CLIENT_SECRET: `${C} `, BFF_STORE: 'redis', BFF_REDIS_URL: `redis://u:1234/${C}@redis.test:6379/0`, BFF_AUTHORITY: `https://${C}@idp.test/`, BFF_TOKEN_KEYS: `${C}\t` },
      names: ['BFF_CLIENT_SECRET', 'BFF_REDIS_URL', 'BFF_AUTHORITY', 'BFF_TOKEN_KEYS'],
    },
    {
      app: 'spa', server: 'apps/spa/server/server.ts',
      env: { SPA_AUTHORITY: `https://idp.test/?access_token=${C}`, SPA_API_URL: `http://u:${C}@api.test:99999` },
      names: ['SPA_AUTHORITY', 'SPA_API_URL'],
    },
  ];

  for (const refusal of refusals) {
    it(`${refusal.app}`, async () => {
      const child = spawn(process.execPath, [join(root, refusal.server)], { env: { ...process.env, ...refusal.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (b: Buffer) => { output += b.toString(); });
      child.stderr.on('data', (b: Buffer) => { output += b.toString(); });
      // A hang bound only: the refusal comes before anything else.
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(guard);
      assert.equal(code, 2, output);
      for (const name of refusal.names) assert.match(output, new RegExp(`${name}\\b.* is invalid`), output);
      assert.ok(!output.includes(C), output);
    });
  }
});
