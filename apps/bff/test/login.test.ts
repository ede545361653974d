// The login through the BFF against the real IdP: round trip, the session cookie's flags and
// size, returnTo limited to local paths, replayed, forged and foreign callbacks, /bff/user and
// no token in any answer; how many logins may be pending.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOGIN_COOKIE, LOGINS_FULL_LOG_INTERVAL_SECONDS, LOGINS_FULL_RETRY_AFTER_SECONDS, MAX_PENDING_LOGINS_PER_BROWSER, SESSION_COOKIE } from '../src/defaults.ts';
import { safeReturnTo } from '../src/routes/login.ts';
import { auditEvents, Browser, ManualClock, useSystem } from './support/system.ts';

const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

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
    assert.ok(!lines.some((l) => l.startsWith(`${LOGIN_COOKIE}=`)), 'the login cookie is left to its Max-Age (other tabs may have logins pending)');
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

  it('binds the login with a Lax, HttpOnly, Secure __Host- cookie of 10 minutes, one per browser', async () => {
    const browser = new Browser(env.bff);
    const first = await browser.request('GET', '/bff/login', { csrf: false });
    const line = ([] as string[]).concat(first.headers['set-cookie'] ?? []).find((l) => l.startsWith(`${LOGIN_COOKIE}=`) && !l.startsWith(`${LOGIN_COOKIE}=;`));
    assert.ok(line);
    for (const attribute of [/; HttpOnly/i, /; Secure/i, /; Path=\/(;|$)/i, /; SameSite=Lax/i, /; Max-Age=600/i]) assert.match(line, attribute);
    assert.doesNotMatch(line, /Domain=/i);
    const binding = browser.cookies.get(LOGIN_COOKIE);
    await browser.request('GET', '/bff/login', { csrf: false });
    assert.equal(browser.cookies.get(LOGIN_COOKIE), binding, 'a second login keeps the browser\'s binding');
    browser.cookies.set(LOGIN_COOKIE, 'not-one-of-ours');
    await browser.request('GET', '/bff/login', { csrf: false });
    assert.match(browser.cookies.get(LOGIN_COOKIE)!, /^[A-Za-z0-9_-]{43}$/, 'a value the BFF did not make is replaced');
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

  it('one browser keeps its newest pending logins: the oldest is pushed out by the eleventh', async () => {
    const browser = new Browser(env.bff);
    const first = await browser.startLogin('alice', 'demo-alice');
    const second = await browser.startLogin('alice', 'demo-alice');
    for (let i = 0; i < MAX_PENDING_LOGINS_PER_BROWSER - 1; i++) assert.equal((await browser.request('GET', '/bff/login', { csrf: false })).statusCode, 302);
    const pushedOut = await browser.callback(first);
    assert.equal(pushedOut.statusCode, 400);
    assert.match(pushedOut.body, /no longer valid/);
    assert.equal((await browser.callback(second)).statusCode, 302, 'the newer one still signs in');
  });

  it('refuses a replayed callback: error page, no session', async () => {
    const browser = new Browser(env.bff);
    const location = await browser.startLogin('alice', 'demo-alice');
    const first = await browser.callback(location);
    assert.equal(first.statusCode, 302);
    const attacker = new Browser(env.bff);
    attacker.cookies.set(LOGIN_COOKIE, browser.cookies.get(LOGIN_COOKIE) ?? 'x');
    for (const replay of [browser, attacker]) {
      const before = replay.sessionId;
      const again = await replay.callback(location);
      assert.equal(again.statusCode, 400);
      assert.match(again.headers['content-type'] as string, /^text\/html/);
      assert.match(again.body, /no longer valid/);
      assert.equal(replay.sessionId, before, 'no new session');
      assert.ok(!([] as string[]).concat(again.headers['set-cookie'] ?? []).some((l) => l.startsWith(`${SESSION_COOKIE}=`) && !/Expires=Thu, 01 Jan 1970/.test(l)));
    }
  });

  it('refuses a callback in another browser than the one that started the login', async () => {
    const victim = new Browser(env.bff);
    const location = await victim.startLogin('alice', 'demo-alice');
    const other = new Browser(env.bff);
    const res = await other.callback(location);
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /not started in this browser/);
    assert.equal(other.sessionId, undefined);
    // And the login is spent: the right browser cannot use it afterwards either.
    assert.equal((await victim.callback(location)).statusCode, 400);
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

describe('pending logins are bounded', () => {
  const clock = new ManualClock();
  // Three pending logins in the whole store.
  const env = useSystem({ BFF_MAX_PENDING_LOGINS: '3' }, clock);

  it('past BFF_MAX_PENDING_LOGINS in all, /bff/login answers 503 and logs once per interval; a finished or expired login makes room', async () => {
    const refusalLines = () => env.bff.logs.filter((l) => String(l['msg']).startsWith('logins refused'));
    const started = [];
    for (let i = 0; i < 3; i++) started.push(await new Browser(env.bff).request('GET', '/bff/login', { csrf: false }));
    assert.deepEqual(started.map((r) => r.statusCode), [302, 302, 302]);
    const flood = [];
    for (let i = 0; i < 3; i++) flood.push(await new Browser(env.bff).request('GET', '/bff/login', { csrf: false }));
    assert.deepEqual(flood.map((r) => r.statusCode), [503, 503, 503]);
    assert.equal(flood[0]!.headers['retry-after'], String(LOGINS_FULL_RETRY_AFTER_SECONDS));
    assert.match(flood[0]!.body, /Sign-in is busy right now/);
    assert.equal(flood[0]!.headers['set-cookie'], undefined, 'no login cookie for a login not kept');
    assert.deepEqual(refusalLines().map((l) => [l['level'], l['refused']]), [['warn', 1]], 'one line for the first refusal');

    clock.advance(LOGINS_FULL_LOG_INTERVAL_SECONDS * 1000);
    const browser = new Browser(env.bff);
    assert.equal((await browser.request('GET', '/bff/login', { csrf: false })).statusCode, 503);
    assert.deepEqual(refusalLines().map((l) => l['refused']), [1, 3], 'then the count of the interval');

    clock.advance(env.bff.config.BFF_LOGIN_TTL * 1000 - LOGINS_FULL_LOG_INTERVAL_SECONDS * 1000);
    const location = await browser.startLogin('alice', 'demo-alice');
    assert.equal((await browser.callback(location)).statusCode, 302, 'the expired logins made room, and this one signs in');
  });
});
