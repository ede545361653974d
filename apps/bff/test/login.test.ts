// The login through the BFF against the real IdP: round trip, the session cookie's flags and
// size, returnTo limited to local paths, replayed, forged and foreign callbacks, /bff/user and
// no token in any answer; logins pending in the browser's sealed cookies (decision 0071): several
// tabs, the browser's bounds, expiry by the BFF's clock, tampered values, key rotation, and a
// flood that leaves nothing in the store and stops no honest sign-in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { LOGIN_COOKIE_PREFIX, LOGIN_COOKIES_MAX_BYTES, MAX_PENDING_LOGINS_PER_BROWSER, MAX_RETURN_TO_LENGTH, SESSION_COOKIE } from '../src/defaults.ts';
import { loginCookieName, LoginSealer } from '../src/login-cookie.ts';
import { safeReturnTo } from '../src/routes/login.ts';
import { SQLITE_FILE } from '../src/sessions/sqlite-session-store.ts';
import { TokenCipher } from '../src/token-cipher.ts';
import { auditEvents, Browser, ManualClock, sameBrowserOn, startBff, useSystem, type BffUnderTest } from './support/system.ts';

const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

/** The browser's login cookies, name to value. */
function loginCookiesOf(browser: Browser): Map<string, string> {
  return new Map([...browser.cookies].filter(([name]) => name.startsWith(LOGIN_COOKIE_PREFIX)));
}

function setCookies(res: { headers: Record<string, unknown> }): string[] {
  return ([] as string[]).concat((res.headers['set-cookie'] as string[] | string | undefined) ?? []);
}

/** Rows of every table of the BFF's SQLite file that anything but a signed-in user could fill. */
function storeRows(bff: BffUnderTest): Record<string, number> {
  const db = new DatabaseSync(join(bff.config.BFF_DATA_DIR, SQLITE_FILE), { readOnly: true });
  try {
    return Object.fromEntries(['login', 'used_id', 'lock', 'session'].map((t) => [t, Number(db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get()!['n'])]));
  } finally {
    db.close();
  }
}

describe('login through the BFF', () => {
  const env = useSystem();

  it('signs alice in: a session cookie, /bff/user with her claims and the timeline, and no token', async () => {
    const browser = new Browser(env.bff);
    const res = await browser.login('alice', 'demo-alice', '/notes?x=1');
    assert.equal(res.headers.location, '/notes?x=1');
    const user = await browser.request('GET', '/bff/user');
    assert.equal(user.statusCode, 200);
    const body = user.json() as Record<string, unknown>;
    assert.equal(body['sub'], 'auth0|alice');
    assert.equal(typeof body['name'], 'string');
    assert.deepEqual(Object.keys(body['claims'] as object).filter((c) => ['nonce', 'at_hash', 'c_hash', 'sid'].includes(c)), []);
    assert.ok((body['scopes'] as string[]).includes('auth0-user-api-spa'));
    for (const key of ['loggedInAt', 'sessionExpiresAt', 'accessTokenIssuedAt', 'accessTokenExpiresAt', 'renewsAt']) {
      assert.equal(typeof body[key], 'number', key);
    }
    assert.ok((body['accessTokenExpiresAt'] as number) > (body['accessTokenIssuedAt'] as number));
    assert.doesNotMatch(user.body, JWT);
    assert.doesNotMatch(res.body, JWT);
    assert.equal(auditEvents(env.bff, 'login').length > 0, true);
  });

  it('sets the session cookie __Host-, HttpOnly, Secure, Path=/, no Domain, SameSite=Strict, under 200 bytes', async () => {
    const browser = new Browser(env.bff);
    const location = await browser.startLogin('alice', 'demo-alice');
    const res = await browser.callback(location);
    const lines = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    // The one setting it (a partitioned copy is deleted first: decision 0060).
    const session = lines.find((l) => l.startsWith(`${SESSION_COOKIE}=`) && !l.startsWith(`${SESSION_COOKIE}=;`));
    assert.ok(session, lines.join('\n'));
    assert.match(session, /; HttpOnly/i);
    assert.match(session, /; Secure/i);
    assert.match(session, /; Path=\/(;|$)/i);
    assert.match(session, /; SameSite=Strict/i);
    assert.doesNotMatch(session, /Domain=/i);
    assert.ok(Buffer.byteLength(session) < 200, `${Buffer.byteLength(session)} bytes`);
    const value = session.split(';', 1)[0]!.slice(SESSION_COOKIE.length + 1);
    assert.match(value, /^[A-Za-z0-9_-]{43}$/, 'a random 256-bit id, base64url');
    const state = new URL(location).searchParams.get('state')!;
    assert.ok(lines.some((l) => l.startsWith(`${loginCookieName(state)}=;`) && /Max-Age=0/i.test(l)), 'the login\'s own cookie is deleted');
    assert.ok(!lines.some((l) => l.startsWith(LOGIN_COOKIE_PREFIX) && !l.startsWith(`${loginCookieName(state)}=`)), 'no other login cookie touched');
  });

  it('sends back only local paths: anything else returns to /', async () => {
    for (const [returnTo, expected] of [
      ['https://evil.example', '/'], ['//evil.example', '/'], ['/\\evil.example', '/'], ['http:evil.example', '/'],
      ['javascript:alert(1)', '/'], ['/\r\nSet-Cookie:x', '/'], ['/%0d%0a', '/%0d%0a'], ['/bff/logout', '/'], ['/notes#top', '/notes#top'],
      ['/.//evil.example', '/'],
    ] as const) {
      const browser = new Browser(env.bff);
      const res = await browser.login('alice', 'demo-alice', returnTo);
      assert.equal(res.headers.location, expected, returnTo);
    }
  });

  it('judges returnTo as the browser will read it: dot segments that resolve to //host, and /bff/ in any spelling, return to /', () => {
    const origin = 'http://localhost:4300';
    for (const returnTo of ['/.//evil.example', '/..//evil.example', '/%2e//evil.example', '/%2E%2E//evil.example/x?y=1',
      '/x/..//evil.example', '/a/b/../..//evil.example', '/.///evil.example', '/./\\evil.example', '/%62ff/login', '/BFF/logout', '/bff', '/%zz']) {
      assert.equal(safeReturnTo(returnTo, origin), '/', returnTo);
    }
    for (const returnTo of ['/notes?x=1#top', '/a/./b', '/a/../notes', '/%2F%2Fevil.example', '/%5Cevil.example', '/bffx']) {
      const kept = safeReturnTo(returnTo, origin);
      assert.equal(new URL(kept, origin).origin, origin, returnTo);
      assert.ok(kept.startsWith('/') && !kept.startsWith('//'), `${returnTo} -> ${kept}`);
    }
    assert.equal(safeReturnTo('/a/../notes', origin), '/notes');
  });

  it('keeps the login in a sealed Lax, HttpOnly, Secure __Host- cookie of 10 minutes named after its state, nothing in clear', async () => {
    const browser = new Browser(env.bff);
    const start = await browser.request('GET', '/bff/login?returnTo=/notes', { csrf: false });
    const authorize = new URL(start.headers.location as string);
    const state = authorize.searchParams.get('state')!;
    const line = setCookies(start).find((l) => l.startsWith(`${loginCookieName(state)}=`) && !l.startsWith(`${loginCookieName(state)}=;`));
    assert.ok(line, setCookies(start).join('\n'));
    for (const attribute of [/; HttpOnly/i, /; Secure/i, /; Path=\/(;|$)/i, /; SameSite=Lax/i, /; Max-Age=600/i]) assert.match(line, attribute);
    assert.doesNotMatch(line, /Domain=/i);
    const value = browser.cookies.get(loginCookieName(state))!;
    assert.match(value, /^v1\.[\w-]{8}\.[\w-]{16}\.[\w-]+$/);
    for (const secret of [state, authorize.searchParams.get('nonce')!, 'notes']) assert.ok(!value.includes(secret), 'sealed, not in clear');
    assert.ok(Buffer.byteLength(line) < 600, `${Buffer.byteLength(line)} bytes`);
  });

  it('finishes two logins pending in two tabs of one browser, whatever the order, and a forged callback between them cancels neither', async () => {
    const browser = new Browser(env.bff);
    const tab1 = await browser.startLogin('alice', 'demo-alice', '/tab-one');
    const tab2 = await browser.startLogin('alice', 'demo-alice', '/tab-two');
    const tab3 = await browser.startLogin('alice', 'demo-alice', '/tab-three');
    assert.equal((await browser.request('GET', `/bff/callback?code=x&state=${'F'.repeat(43)}`, { csrf: false })).statusCode, 400);
    for (const [location, returnTo] of [[tab2, '/tab-two'], [tab1, '/tab-one'], [tab3, '/tab-three']] as const) {
      const previous = browser.sessionId;
      const res = await browser.callback(location);
      assert.equal(res.statusCode, 302, `${returnTo}: ${res.body}`);
      assert.equal(res.headers.location, returnTo);
      assert.notEqual(browser.sessionId, previous, 'a new session id at every login');
    }
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 200);
  });

  it('two tabs starting their logins at the same moment both sign in: neither overwrites the other\'s cookie', async () => {
    const browser = new Browser(env.bff);
    const starts = await Promise.all(['/one', '/two'].map((returnTo) => browser.request('GET', `/bff/login?returnTo=${returnTo}`, { csrf: false })));
    assert.equal(loginCookiesOf(browser).size, 2);
    const issuer = env.bff.config.BFF_AUTHORITY;
    const { followIdpRedirects, submitLogin } = await import('../../../tests/support/oidc-rp.ts');
    for (const [i, returnTo] of [[1, '/two'], [0, '/one']] as const) {
      const page = await followIdpRedirects(browser.idp, issuer, starts[i]!.headers.location as string);
      const after = page.status === 200 ? await submitLogin(browser.idp, issuer, page, 'alice', 'demo-alice') : page;
      const res = await browser.callback(after.headers.get('location')!);
      assert.equal(res.statusCode, 302, res.body);
      assert.equal(res.headers.location, returnTo);
    }
    assert.equal(loginCookiesOf(browser).size, 0, 'each callback deleted its own cookie');
  });

  it('one browser keeps its newest pending logins: the oldest is pushed out by the eleventh', async () => {
    const browser = new Browser(env.bff);
    const first = await browser.startLogin('alice', 'demo-alice');
    const second = await browser.startLogin('alice', 'demo-alice');
    for (let i = 0; i < MAX_PENDING_LOGINS_PER_BROWSER - 1; i++) assert.equal((await browser.request('GET', '/bff/login', { csrf: false })).statusCode, 302);
    const pushedOut = await browser.callback(first);
    assert.equal(pushedOut.statusCode, 400);
    assert.match(pushedOut.body, /no longer valid/);
    assert.equal((await browser.callback(second)).statusCode, 302, 'the newer one still signs in');
    assert.ok(loginCookiesOf(browser).size <= MAX_PENDING_LOGINS_PER_BROWSER);
  });

  it('a site sending the browser to /bff/login again and again with long returnTo values leaves it at most LOGIN_COOKIES_MAX_BYTES of login cookies', async () => {
    const browser = new Browser(env.bff);
    const long = `/${'a'.repeat(MAX_RETURN_TO_LENGTH - 1)}`;
    for (let i = 0; i < 2 * MAX_PENDING_LOGINS_PER_BROWSER; i++) {
      assert.equal((await browser.request('GET', `/bff/login?returnTo=${long}`, { csrf: false })).statusCode, 302);
      const bytes = [...loginCookiesOf(browser)].reduce((sum, [name, value]) => sum + name.length + 1 + value.length + 2, 0);
      assert.ok(bytes <= LOGIN_COOKIES_MAX_BYTES, `${bytes} bytes after ${i + 1} logins`);
    }
    assert.ok(loginCookiesOf(browser).size >= 1);
    // The newest is kept and still signs in, to the long returnTo.
    const res = await browser.login('alice', 'demo-alice', long);
    assert.equal(res.headers.location, long);
    // A returnTo that percent-encoding makes longer than the bound returns to /.
    assert.equal(safeReturnTo(`/${'é'.repeat(1000)}`, 'http://localhost:4300'), '/');
  });

  it('refuses a replayed callback, also with the login cookie put back, without asking the IdP again: error page, no session', async () => {
    const browser = new Browser(env.bff);
    const location = await browser.startLogin('alice', 'demo-alice');
    const cookies = loginCookiesOf(browser);
    const first = await browser.callback(location);
    assert.equal(first.statusCode, 302);
    assert.equal(loginCookiesOf(browser).size, 0, 'the cookie is deleted on use');
    const attacker = new Browser(env.bff);
    for (const [name, value] of cookies) attacker.cookies.set(name, value);
    const put = new Browser(env.bff);
    for (const [name, value] of [...browser.cookies, ...cookies]) put.cookies.set(name, value);
    const exchanges = env.bff.tokenCalls.filter((g) => g === 'authorization_code').length;
    for (const replay of [browser, attacker, put]) {
      const before = replay.sessionId;
      const again = await replay.callback(location);
      assert.equal(again.statusCode, 400);
      assert.match(again.headers['content-type'] as string, /^text\/html/);
      assert.match(again.body, /no longer valid/);
      assert.equal(replay.sessionId, before, 'no new session');
      assert.ok(!setCookies(again).some((l) => l.startsWith(`${SESSION_COOKIE}=`) && !/Expires=Thu, 01 Jan 1970/.test(l)));
    }
    assert.equal(env.bff.tokenCalls.filter((g) => g === 'authorization_code').length, exchanges, 'the used state never reaches the IdP again');
    assert.equal((await browser.request('POST', '/bff/renew')).statusCode, 200, 'the session of the first callback keeps its grant');
  });

  it('two callbacks with the same URL and cookie at once: one session, one code exchange', async () => {
    const browser = new Browser(env.bff);
    const location = await browser.startLogin('alice', 'demo-alice');
    const twin = new Browser(env.bff);
    for (const [name, value] of browser.cookies) twin.cookies.set(name, value);
    const exchanges = env.bff.tokenCalls.filter((g) => g === 'authorization_code').length;
    const answers = await Promise.all([browser.callback(location), twin.callback(location)]);
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [302, 400]);
    assert.equal(env.bff.tokenCalls.filter((g) => g === 'authorization_code').length, exchanges + 1);
  });

  it('refuses a callback in another browser than the one that started the login, and the right browser still signs in', async () => {
    const victim = new Browser(env.bff);
    const location = await victim.startLogin('alice', 'demo-alice');
    const other = new Browser(env.bff);
    const res = await other.callback(location);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /started in another browser/);
    assert.equal(other.sessionId, undefined);
    // A login cookie of the other browser's own login, under its own name, does not help.
    await other.request('GET', '/bff/login', { csrf: false });
    assert.equal((await other.callback(location)).statusCode, 400);
    assert.equal(other.sessionId, undefined);
    assert.equal((await victim.callback(location)).statusCode, 302);
  });

  it('refuses forged callbacks: unknown state, no state, a tampered code, an IdP error', async () => {
    const browser = new Browser(env.bff);
    const location = new URL(await browser.startLogin('alice', 'demo-alice'));
    const state = location.searchParams.get('state')!;
    const cases = [
      `/bff/callback?code=abc&state=${'A'.repeat(43)}`,
      '/bff/callback?code=abc',
      `/bff/callback?code=${location.searchParams.get('code')}x&state=${state}`,
    ];
    for (const url of cases) {
      const res = await browser.request('GET', url, { csrf: false });
      assert.equal(res.statusCode, 400, url);
      assert.equal(browser.sessionId, undefined, url);
    }
    const denied = new Browser(env.bff);
    const start = await denied.request('GET', '/bff/login', { csrf: false });
    const deniedState = new URL(start.headers.location as string).searchParams.get('state')!;
    const res = await denied.request('GET', `/bff/callback?error=access_denied&state=${deniedState}`, { csrf: false });
    assert.equal(res.statusCode, 400);
    assert.equal(denied.sessionId, undefined);
  });

  it('is ready once the IdP is discovered and the store answers', async () => {
    const res = await env.bff.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready' });
  });

  it('answers 401 problem details to /bff/user without a session, or with an unknown one', async () => {
    const browser = new Browser(env.bff);
    const none = await browser.request('GET', '/bff/user');
    assert.equal(none.statusCode, 401);
    assert.match(none.headers['content-type'] as string, /^application\/problem\+json/);
    browser.cookies.set(SESSION_COOKIE, 'A'.repeat(43));
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 401);
  });

  it('gives every login a new session id, also to a browser that had one', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const first = browser.sessionId!;
    await browser.login();
    assert.notEqual(browser.sessionId, first);
    const stale = new Browser(env.bff);
    stale.cookies.set(SESSION_COOKIE, first);
    assert.equal((await stale.request('GET', '/bff/user')).statusCode, 401, 'the old session ended');
  });
});

describe('login cookies judged by the BFF', () => {
  const clock = new ManualClock();
  const keys = [randomBytes(32), randomBytes(32)];
  const env = useSystem({ BFF_TOKEN_KEYS: keys[0]!.toString('base64') }, clock);

  /** A login started and signed in at the IdP: the callback URL, its state and the browser holding its cookie. */
  async function pending(bff: BffUnderTest = env.bff) {
    const browser = new Browser(bff);
    const location = await browser.startLogin('alice', 'demo-alice', '/notes');
    const state = new URL(location).searchParams.get('state')!;
    return { browser, location, state, name: loginCookieName(state), value: browser.cookies.get(loginCookieName(state))! };
  }

  it('a login past BFF_LOGIN_TTL by the BFF\'s clock fails as expired, though the browser still sends its cookie', async () => {
    const { browser, location } = await pending();
    clock.advance(env.bff.config.BFF_LOGIN_TTL * 1000);
    const res = await browser.callback(location);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /no longer valid/);
    assert.equal(browser.sessionId, undefined);
    assert.equal(auditEvents(env.bff, 'login_failure').at(-1)?.['reason'], 'login cookie invalid or expired');
  });

  it('a tampered, truncated, re-ordered, moved, other-purpose or junk value is refused with the expired-login page, never a 500', async () => {
    const other = await pending();
    const session = new Browser(env.bff);
    await session.login();
    const stored = (await env.bff.store.get((await env.bff.sessions.load(session.sessionId))!.key, clock.now()))!;
    const tokenRecord = (JSON.parse(stored.payload) as { tokens: string }).tokens;
    assert.match(tokenRecord, /^v1\./, 'a token record sealed with the token key');
    const flip = (v: string, at: number) => v.slice(0, at) + (v[at] === 'A' ? 'B' : 'A') + v.slice(at + 1);
    const values = (v: string): Array<[string, string]> => {
      const [format, id, iv, body] = v.split('.') as [string, string, string, string];
      return [
        ['a flipped ciphertext byte', flip(v, v.length - 30)], ['a flipped tag byte', flip(v, v.length - 2)], ['a flipped iv', [format, id, flip(iv, 3), body].join('.')],
        ['truncated', v.slice(0, -10)], ['only its header', `${format}.${id}.${iv}.`], ['iv and body swapped', [format, id, body, iv].join('.')],
        ['something appended', `${v}.x`], ['another login\'s value', other.value], ['the session cookie\'s value', session.sessionId!],
        ['a token record of the store', tokenRecord], ['empty', ''], ['not base64', 'v1.%%%%%%%%.%%%%%%%%%%%%%%%%.%%%%%%%%%%%%%%%%%%%%%%'],
      ];
    };
    for (const [what, value] of values((await pending()).value)) {
      const { browser, location, name } = await pending();
      browser.cookies.set(name, value);
      const res = await browser.callback(location);
      assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
      assert.match(res.body, /no longer valid/, what);
      assert.equal(browser.sessionId, undefined, what);
    }
  });

  it('the token key never opens a login cookie: a value it sealed, even under the cookie\'s name, is refused (a key per purpose)', () => {
    const now = clock.now();
    const state = 'S'.repeat(43);
    const name = loginCookieName(state);
    const body = JSON.stringify([state, 'n'.repeat(43), 'v'.repeat(43), '/', now, now + 60_000]);
    const sealer = new LoginSealer([keys[0]!]);
    assert.ok(sealer.open(name, sealer.seal({ state, nonce: 'n', codeVerifier: 'v', returnTo: '/', issuedAt: now, expiresAt: now + 60_000 }).value, now), 'its own value opens');
    assert.equal(sealer.open(name, new TokenCipher([keys[0]!]).encrypt(body, name), now), undefined);
  });

  it('a login in flight survives a new key put first, and fails as expired once its key is removed', async () => {
    const rotated = await startBff({ BFF_AUTHORITY: env.system.idp.issuer, BFF_API_URL: env.system.api.url, BFF_TOKEN_KEYS: `${keys[1]!.toString('base64')},${keys[0]!.toString('base64')}` }, clock);
    const dropped = await startBff({ BFF_AUTHORITY: env.system.idp.issuer, BFF_API_URL: env.system.api.url, BFF_TOKEN_KEYS: keys[1]!.toString('base64') }, clock);
    try {
      const kept = await pending();
      assert.equal((await sameBrowserOn(rotated, kept.browser).callback(kept.location)).statusCode, 302, 'the old key still opens it');
      const lost = await pending();
      const res = await sameBrowserOn(dropped, lost.browser).callback(lost.location);
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /no longer valid/);
      // Sealed by the new key first from then on: the old configuration cannot open it.
      const newer = await pending(rotated);
      assert.equal((await sameBrowserOn(env.bff, newer.browser).callback(newer.location)).statusCode, 400);
    } finally {
      await rotated.dispose();
      await dropped.dispose();
    }
  });
});

describe('a flood of logins', () => {
  // Still set after an upgrade: accepted, with a warning, and read by nothing.
  const env = useSystem({ BFF_MAX_PENDING_LOGINS: '3' });

  it('a flood of 10,000 logins does not stop an honest browser signing in, and leaves nothing in the store', async () => {
    for (let i = 0; i < 10_000; i++) {
      const res = await env.bff.app.inject({ method: 'GET', url: '/bff/login?returnTo=/x' });
      assert.equal(res.statusCode, 302, res.body);
    }
    // Callbacks of the flood's own logins with made-up codes: refused by the IdP, nothing kept.
    for (let i = 0; i < 20; i++) {
      const flooder = new Browser(env.bff);
      const start = await flooder.request('GET', '/bff/login', { csrf: false });
      const state = new URL(start.headers.location as string).searchParams.get('state')!;
      assert.equal((await flooder.request('GET', `/bff/callback?code=made-up&state=${state}`, { csrf: false })).statusCode, 400);
    }
    assert.deepEqual(storeRows(env.bff), { login: 0, used_id: 0, lock: 0, session: 0 });
    const browser = new Browser(env.bff);
    await browser.login('alice', 'demo-alice', '/notes');
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 200);
    assert.deepEqual(storeRows(env.bff), { login: 0, used_id: 1, lock: 0, session: 1 }, 'a real sign-in marks its state used');
  });

  it('BFF_MAX_PENDING_LOGINS, still set after the upgrade, is accepted with a warning at start-up', () => {
    const warned = env.bff.logs.filter((l) => l['setting'] === 'BFF_MAX_PENDING_LOGINS');
    assert.deepEqual(warned.map((l) => l['level']), ['warn']);
    assert.match(String(warned[0]!['msg']), /no longer read/);
  });
});
