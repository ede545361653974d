// A Cookie header naming one of the BFF's cookies twice (decision 0060). A page on another port of
// the same host can set a `__Host-` cookie for it, as a partitioned copy beside ours (Chromium sends
// both), and which copy comes first is the browser's choice: neither is used. Every route reading
// the session cookie answers 401 and deletes both copies, the API is never called, a logout ends
// the session of each copy, a callback refuses a login cookie sent twice; every write of a cookie
// deletes a partitioned copy of it.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LOGIN_COOKIE_PREFIX, SESSION_COOKIE } from '../src/defaults.ts';
import { loginCookieName } from '../src/login-cookie.ts';
import { auditEvents, Browser, useSystem } from './support/system.ts';

type Injected = Awaited<ReturnType<Browser['request']>>;

function setCookies(res: Injected): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

/** The answer deletes `name`, both the plain cookie and a partitioned copy. */
function assertDeletesBothCopies(res: Injected, name: string): void {
  const deletions = setCookies(res).filter((c) => c.startsWith(`${name}=;`) && /Max-Age=0/i.test(c));
  assert.equal(deletions.filter((c) => /;\s*Partitioned/i.test(c)).length, 1, `a partitioned ${name} deleted: ${setCookies(res).join(' | ')}`);
  assert.equal(deletions.filter((c) => !/;\s*Partitioned/i.test(c)).length, 1, `the plain ${name} deleted: ${setCookies(res).join(' | ')}`);
  for (const c of deletions) assert.match(c, /Path=\/.*Secure/i);
}

describe('a cookie of the BFF sent twice', () => {
  const env = useSystem();
  let alice: Browser;
  let bob: Browser;
  before(async () => {
    alice = new Browser(env.bff);
    await alice.login('alice', 'demo-alice');
    bob = new Browser(env.bff);
    await bob.login('bob', 'demo-bob');
  });

  const both = (first: string, second: string) => `${SESSION_COOKIE}=${first}; theme=dark; ${SESSION_COOKIE}=${second}`;
  const inject = (method: string, url: string, cookie: string, headers: Record<string, string> = { 'x-csrf': '1' }) =>
    env.bff.app.inject({ method: method as 'GET', url, headers: { ...headers, cookie } });

  it('is refused on every route that reads the session, in either order and with one value twice: 401, both copies deleted, no API call', async () => {
    const before = auditEvents(env.bff, 'cookie_sent_twice').length;
    env.system.api.received.length = 0;
    const headers = [both(alice.sessionId!, bob.sessionId!), both(bob.sessionId!, alice.sessionId!), both(alice.sessionId!, alice.sessionId!)];
    const routes: Array<[string, string]> = [['GET', '/bff/user'], ['POST', '/bff/renew'], ['GET', '/api/UserOne'], ['POST', '/api/notes'], ['GET', '/api/notes']];
    for (const cookie of headers) {
      for (const [method, url] of routes) {
        const res = await inject(method, url, cookie);
        assert.equal(res.statusCode, 401, `${method} ${url}: ${res.body}`);
        assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
        assert.match(res.json().detail, /session cookie twice/);
        assert.doesNotMatch(res.body, /alice|bob/i);
        assertDeletesBothCopies(res, SESSION_COOKIE);
      }
    }
    assert.equal(env.system.api.received.length, 0, 'nothing reached the API');
    const audited = auditEvents(env.bff, 'cookie_sent_twice').slice(before);
    assert.equal(audited.length, headers.length * routes.length);
    assert.ok(audited.every((e) => e['cookie'] === SESSION_COOKIE && !JSON.stringify(e).includes(alice.sessionId!)));
    // Each session on its own still works: nothing was ended by the refusals.
    assert.equal((await alice.request('GET', '/bff/user')).statusCode, 200);
    assert.equal((await bob.request('GET', '/bff/user')).statusCode, 200);
  });

  it('a logout ends the session of every copy and asks the IdP without a hint', async () => {
    const carol = new Browser(env.bff);
    await carol.login('alice', 'demo-alice');
    const dave = new Browser(env.bff);
    await dave.login('bob', 'demo-bob');
    const res = await inject('POST', '/bff/logout', both(carol.sessionId!, dave.sessionId!));
    assert.equal(res.statusCode, 200, res.body);
    assertDeletesBothCopies(res, SESSION_COOKIE);
    const { redirectTo } = res.json() as { redirectTo: string };
    assert.ok(!new URL(redirectTo).searchParams.has('id_token_hint'), redirectTo);
    assert.equal((await carol.request('GET', '/bff/user')).statusCode, 401, 'the first copy\'s session ended');
    assert.equal((await dave.request('GET', '/bff/user')).statusCode, 401, 'the second copy\'s session ended');
  });

  it('a login cookie sent twice is refused by its callback, both copies deleted; /bff/login deletes both and leaves other logins alone', async () => {
    const start = await inject('GET', '/bff/login?returnTo=/notes', '', {});
    const state = new URL(start.headers.location as string).searchParams.get('state')!;
    const name = loginCookieName(state);
    const written = setCookies(start);
    const partitionedDeletion = written.findIndex((c) => c.startsWith(`${name}=;`) && /Partitioned/.test(c));
    const cookie = written.findIndex((c) => c.startsWith(`${name}=`) && !c.startsWith(`${name}=;`));
    assert.ok(partitionedDeletion >= 0 && cookie > partitionedDeletion, written.join(' | '));
    const value = /=([^;]*)/.exec(written[cookie]!)![1]!;

    const before = auditEvents(env.bff, 'login_failure').length;
    for (const header of [`${name}=${value}; ${name}=other`, `${name}=other; ${name}=${value}`, `${name}=${value}; ${name}=${value}`]) {
      const res = await inject('GET', `/bff/callback?code=c&state=${state}`, header, {});
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
      assertDeletesBothCopies(res, name);
      assert.equal(setCookies(res).some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !c.startsWith(`${SESSION_COOKIE}=;`)), false, 'no session');
    }
    const failures = auditEvents(env.bff, 'login_failure').slice(before).map((e) => e['reason']);
    assert.deepEqual(failures, ['login cookie sent twice', 'login cookie sent twice', 'login cookie sent twice']);

    // A new login deletes the doubled cookie (both copies) and keeps the browser's other pending login.
    const kept = await inject('GET', '/bff/login', '', {});
    const keptName = setCookies(kept).map((c) => c.split('=', 1)[0]!).find((n) => n.startsWith(LOGIN_COOKIE_PREFIX))!;
    const keptValue = /=([^;]*)/.exec(setCookies(kept).find((c) => c.startsWith(`${keptName}=`) && !c.startsWith(`${keptName}=;`))!)![1]!;
    const again = await inject('GET', '/bff/login', `${name}=${value}; ${keptName}=${keptValue}; ${name}=${value}`, {});
    assert.equal(again.statusCode, 302);
    assertDeletesBothCopies(again, name);
    assert.ok(!setCookies(again).some((c) => c.startsWith(`${keptName}=`)), 'the other login\'s cookie untouched');
  });

  it('a login completed while the session cookie comes twice ends both sessions, and the new cookie replaces both copies', async () => {
    const erin = new Browser(env.bff);
    await erin.login('alice', 'demo-alice');
    const frank = new Browser(env.bff);
    await frank.login('bob', 'demo-bob');
    const returning = new Browser(env.bff);
    const location = await returning.startLogin('alice', 'demo-alice');
    returning.cookies.delete(SESSION_COOKIE);
    const url = new URL(location);
    const res = await env.bff.app.inject({
      method: 'GET', url: url.pathname + url.search,
      headers: { cookie: `${[...returning.cookies].filter(([n]) => n.startsWith(LOGIN_COOKIE_PREFIX)).map(([n, v]) => `${n}=${v}`).join('; ')}; ${both(erin.sessionId!, frank.sessionId!)}` },
    });
    assert.equal(res.statusCode, 302, res.body);
    const written = setCookies(res).filter((c) => c.startsWith(`${SESSION_COOKIE}=`));
    assert.equal(written.length, 2, written.join(' | '));
    assert.match(written[0]!, /^[^=]+=;.*Max-Age=0.*Partitioned/i, 'the partitioned copy deleted first');
    assert.match(written[1]!, new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43};`), 'then the new session cookie');
    assert.equal((await erin.request('GET', '/bff/user')).statusCode, 401);
    assert.equal((await frank.request('GET', '/bff/user')).statusCode, 401);
  });
});
