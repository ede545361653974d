// Server-side sessions against the real IdP: tokens encrypted at rest, sessions surviving a
// restart, the access token renewed with exactly one refresh for 20 parallel calls, a revoked
// grant ending the session, sliding idle and absolute lifetimes (manual clock), logout revoking
// the refresh token at the IdP and naming the IdP session without a token (or by its ID token
// when so configured), and no token, cookie value or secret in any log line.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as d from '../src/defaults.ts';
import { sha256 } from '../src/sessions/session-manager.ts';
import { DEV_API_SECRET, followIdpRedirects, tokenRequest } from '../../../tests/support/oidc-rp.ts';
import { auditEvents, type BffUnderTest, Browser, ManualClock, useSystem } from './support/system.ts';

/** The refresh token of a browser's session, read from the store (as only the server can). */
async function refreshTokenOf(bff: BffUnderTest, browser: Browser): Promise<string> {
  const session = await bff.sessions.load(browser.sessionId);
  assert.ok(session?.tokens.refreshToken);
  return session.tokens.refreshToken;
}

describe('server-side sessions', () => {
  const clock = new ManualClock();
  const env = useSystem({}, clock);

  it('keeps tokens encrypted at rest: no token in the SQLite files, and a session survives a restart', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const session = await env.bff.sessions.load(browser.sessionId);
    assert.ok(session);
    const secrets = [session.tokens.accessToken, session.tokens.refreshToken!, session.tokens.idToken!, browser.sessionId!];
    const dataDir = env.bff.config.BFF_DATA_DIR;
    const files = readdirSync(dataDir).filter((f) => f.startsWith('bff.sqlite'));
    assert.ok(files.length > 0);
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dataDir, f))));
    for (const secret of secrets) {
      assert.ok(!bytes.includes(Buffer.from(secret)), 'a token or the session id is in the database in clear');
      // Not even one of a JWT's parts.
      for (const part of secret.split('.')) assert.ok(part.length < 16 || !bytes.includes(Buffer.from(part)));
    }
    assert.ok(bytes.includes(Buffer.from(sha256(browser.sessionId!))), 'the row is keyed by the id\'s hash');
    env.bff = await env.bff.restart();
    browser.bff = env.bff;
    const user = await browser.request('GET', '/bff/user');
    assert.equal(user.statusCode, 200, 'the session survived the restart');
  });

  it('renews the access token with exactly one refresh when 20 calls find it expiring', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const before = (await browser.request('GET', '/bff/user')).json() as { accessTokenExpiresAt: number };
    clock.advance(before.accessTokenExpiresAt - clock.now() - 1000);
    env.bff.tokenCalls.length = 0;
    env.system.api.received.length = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => browser.request('GET', '/api/UserOne')));
    assert.deepEqual(answers.map((a) => a.statusCode), Array(20).fill(200));
    assert.deepEqual(env.bff.tokenCalls, ['refresh_token'], 'one refresh at the IdP');
    const tokens = new Set(env.system.api.received.map((r) => r.headers['authorization']));
    assert.equal(tokens.size, 1, 'every call carried the same renewed token');
    const after = (await browser.request('GET', '/bff/user')).json() as { accessTokenExpiresAt: number; lastRenewal: { ok: boolean } };
    assert.ok(after.accessTokenExpiresAt > before.accessTokenExpiresAt);
    assert.equal(after.lastRenewal.ok, true);
    // The grant is alive: rotation's reuse detection did not fire.
    assert.equal((await browser.request('POST', '/bff/renew')).statusCode, 200);
    assert.equal(auditEvents(env.bff, 'refresh').length >= 2, true);
  });

  it('renews on demand with POST /bff/renew, and 20 parallel renewals share one refresh', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    env.bff.tokenCalls.length = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => browser.request('POST', '/bff/renew')));
    assert.deepEqual(answers.map((a) => a.statusCode), Array(20).fill(200));
    assert.deepEqual(env.bff.tokenCalls, ['refresh_token']);
    for (const a of answers) assert.doesNotMatch(a.body, /eyJ/);
  });

  it('ends the session when the grant is gone at the IdP: 401, refresh failure audited', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const refreshToken = await refreshTokenOf(env.bff, browser);
    // Someone else revokes the grant (for example an administrator).
    const discovery = await (await fetch(new URL('.well-known/openid-configuration', env.system.idp.issuer + '/'))).json() as { revocation_endpoint: string };
    const revoked = await fetch(discovery.revocation_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`bff:${d.DEV_CLIENT_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }).toString(),
    });
    assert.equal(revoked.status, 200);
    const res = await browser.request('POST', '/bff/renew');
    assert.equal(res.statusCode, 401);
    assert.equal(browser.sessionId, undefined, 'the cookie is cleared');
    const failures = auditEvents(env.bff, 'refresh_failure');
    assert.equal(failures.at(-1)?.['ended'], true);
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 401);
  });

  it('goes on calling the API with a still valid access token while the IdP cannot renew it; 503 once it expired; renews when the IdP is back', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const old = (await env.bff.sessions.load(browser.sessionId))!.tokens.accessToken;
    const before = (await browser.request('GET', '/bff/user')).json() as { accessTokenExpiresAt: number };
    // Inside the renewal window, the token not yet expired.
    clock.advance(before.accessTokenExpiresAt - clock.now() - 5000);
    env.system.api.received.length = 0;
    env.bff.faults.refresh = true;
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => browser.request('GET', '/api/UserOne')));
      assert.deepEqual(answers.map((a) => a.statusCode), Array(5).fill(200));
      assert.deepEqual([...new Set(env.system.api.received.map((r) => r.headers['authorization']))], [`Bearer ${old}`]);
      assert.equal(auditEvents(env.bff, 'refresh_failure').at(-1)?.['ended'], false);
      assert.equal((await browser.request('POST', '/bff/renew')).statusCode, 503, 'an explicit renewal still says the IdP is away');
      clock.advance(5000);
      const expired = await browser.request('GET', '/api/UserOne');
      assert.equal(expired.statusCode, 503, 'an expired token is never sent');
      assert.equal(env.system.api.received.length, 5);
    } finally {
      env.bff.faults.refresh = false;
    }
    const renewed = await browser.request('GET', '/api/UserOne');
    assert.equal(renewed.statusCode, 200);
    assert.notEqual(env.system.api.received.at(-1)?.headers['authorization'], `Bearer ${old}`);
  });

  it('takes a refusal of the BFF itself (invalid_client: its secret rotated at the IdP only) for a misconfiguration: 503 and an error line at renewal, sign-in and logout; the session is kept', async () => {
    const refusals = () => env.bff.logs.filter((l) => l['level'] === 'error' && String(l['msg']).includes('refused the BFF itself'));
    const browser = new Browser(env.bff);
    await browser.login();
    const other = new Browser(env.bff);
    const callback = await other.startLogin('alice', 'demo-alice');
    env.bff.faults.wrongSecret = true;
    try {
      const renew = await browser.request('POST', '/bff/renew');
      assert.equal(renew.statusCode, 503, renew.body);
      assert.match(String(renew.headers['content-type']), /^application\/problem\+json/);
      assert.ok(renew.headers['retry-after']);
      const user = await browser.request('GET', '/bff/user');
      assert.equal(user.statusCode, 200, 'the session is kept: the user did nothing wrong');
      const { ok, detail } = (user.json() as { lastRenewal: { ok: boolean; detail: string } }).lastRenewal;
      assert.deepEqual({ ok, detail }, { ok: false, detail: 'the identity provider refused the BFF (invalid_client)' });
      assert.deepEqual(refusals().map((l) => [l['endpoint'], l['error']]), [['token', 'invalid_client']]);

      const signIn = await other.callback(callback);
      assert.equal(signIn.statusCode, 503, 'a sign-in the BFF cannot finish is not the user\'s failure');
      assert.match(signIn.body, /Sign-in is not available right now/);
      assert.equal(other.sessionId, undefined);
      assert.equal(auditEvents(env.bff, 'login_failure').at(-1)?.['reason'], 'code exchange refused: invalid_client');
      assert.deepEqual(refusals().map((l) => [l['endpoint'], l['error']]), [['token', 'invalid_client'], ['token', 'invalid_client']]);
    } finally {
      env.bff.faults.wrongSecret = false;
    }
    assert.equal((await browser.request('POST', '/bff/renew')).statusCode, 200, 'renews once the secrets agree again');
    env.bff.faults.wrongSecret = true;
    try {
      assert.equal((await browser.request('POST', '/bff/logout')).statusCode, 200);
    } finally {
      env.bff.faults.wrongSecret = false;
    }
    assert.equal(auditEvents(env.bff, 'logout').at(-1)?.['refreshTokenRevoked'], false);
    assert.deepEqual(refusals().map((l) => l['endpoint']), ['token', 'token', 'revocation']);
  });

  it('ends an idle session, keeps a used one, and ends every session at its absolute lifetime', async () => {
    const idle = new Browser(env.bff);
    await idle.login();
    const used = new Browser(env.bff);
    await used.login();
    const step = (d.SESSION_IDLE_TTL_SECONDS * 1000) / 2 + 1000;
    clock.advance(step);
    assert.equal((await used.request('GET', '/bff/user')).statusCode, 200);
    clock.advance(step);
    assert.equal((await idle.request('GET', '/bff/user')).statusCode, 401, 'idle too long');
    assert.equal((await used.request('GET', '/bff/user')).statusCode, 200, 'use pushed its idle timeout');
    for (let t = 2 * step; t < d.SESSION_ABSOLUTE_TTL_SECONDS * 1000; t += step) {
      clock.advance(step);
      await used.request('GET', '/bff/user');
    }
    assert.equal((await used.request('GET', '/bff/user')).statusCode, 401, 'past the absolute lifetime');
  });

  it('logs out: refresh token revoked at the IdP, end-session URL naming the IdP session by client_id and logout_hint (no token), which the IdP ends at once; cookie cleared, session gone', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const refreshToken = await refreshTokenOf(env.bff, browser);
    const sessionId = browser.sessionId!;
    const { sid } = (await env.bff.sessions.load(sessionId))!;
    assert.ok(sid);
    const res = await browser.request('POST', '/bff/logout');
    assert.equal(res.statusCode, 200);
    const { redirectTo } = res.json() as { redirectTo: string };
    const end = new URL(redirectTo);
    assert.equal(end.origin, new URL(env.system.idp.issuer).origin);
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), 'http://localhost:4300/');
    assert.equal(end.searchParams.get('client_id'), 'bff');
    assert.equal(end.searchParams.get('logout_hint'), sid);
    assert.equal(end.searchParams.get('id_token_hint'), null, 'no ID token through the browser');
    const page = await (await followIdpRedirects(browser.idp, env.system.idp.issuer, end)).text();
    assert.match(page, /data-auto-submit/, 'the IdP ends its session without asking');
    assert.equal(browser.sessionId, undefined);
    // At the IdP: the refresh token no longer works.
    const refresh = await tokenRequest(env.system.idp.issuer, { grant_type: 'refresh_token', refresh_token: refreshToken }, ['bff', d.DEV_CLIENT_SECRET]);
    assert.equal(refresh.status, 400);
    assert.equal(refresh.body['error'], 'invalid_grant');
    const stale = new Browser(env.bff);
    stale.cookies.set(d.SESSION_COOKIE, sessionId);
    assert.equal((await stale.request('GET', '/bff/user')).statusCode, 401);
    assert.equal(auditEvents(env.bff, 'logout').at(-1)?.['refreshTokenRevoked'], true);
    // Logging out again is harmless.
    assert.equal((await browser.request('POST', '/bff/logout')).statusCode, 200);
  });

  it('a logout retried after its answer was lost (the BFF crashed once the session had ended) still ends the IdP session and revokes the grant', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const refreshToken = await refreshTokenOf(env.bff, browser);
    const sessionId = browser.sessionId!;
    // The first logout ends the session here; the revocation and the answer never arrive.
    env.bff.faults.revocation = true;
    try {
      assert.equal((await browser.request('POST', '/bff/logout')).statusCode, 200);
    } finally {
      env.bff.faults.revocation = false;
    }
    browser.cookies.set(d.SESSION_COOKIE, sessionId);
    const retry = await browser.request('POST', '/bff/logout');
    assert.equal(retry.statusCode, 200);
    const end = new URL((retry.json() as { redirectTo: string }).redirectTo);
    assert.equal(`${end.origin}${end.pathname}`, `${new URL(env.system.idp.issuer).origin}/oidc/logout`, 'sent to the IdP, not to the BFF\'s own page');
    assert.equal(end.searchParams.get('client_id'), 'bff');
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), 'http://localhost:4300/');
    assert.equal(end.searchParams.get('id_token_hint'), null, 'no ID token is left to hint with');
    // Without a hint the IdP asks; the user confirms.
    const issuer = env.system.idp.issuer;
    const html = await (await followIdpRedirects(browser.idp, issuer, end)).text();
    const action = /<form[^>]* id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    assert.ok(action, 'the IdP asks to confirm the logout');
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const confirmed = await browser.idp.request(new URL(action, issuer), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, logout: 'yes' }).toString(),
    });
    assert.equal(confirmed.headers.get('location'), 'http://localhost:4300/');
    const refresh = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: refreshToken }, ['bff', d.DEV_CLIENT_SECRET]);
    assert.equal(refresh.body['error'], 'invalid_grant', 'the grant whose revocation was lost is revoked');
    const start = await browser.request('GET', '/bff/login', { csrf: false });
    const page = await followIdpRedirects(browser.idp, issuer, start.headers.location as string);
    assert.equal(page.status, 200, 'the next login asks for the password again');
  });

  it('ends the session even when the IdP cannot revoke the refresh token, and logs that', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const sessionId = browser.sessionId!;
    env.bff.faults.revocation = true;
    try {
      const res = await browser.request('POST', '/bff/logout');
      assert.equal(res.statusCode, 200);
      assert.ok((res.json() as { redirectTo: string }).redirectTo);
    } finally {
      env.bff.faults.revocation = false;
    }
    assert.equal(browser.sessionId, undefined);
    const stale = new Browser(env.bff);
    stale.cookies.set(d.SESSION_COOKIE, sessionId);
    assert.equal((await stale.request('GET', '/bff/user')).statusCode, 401, 'the session ended locally');
    assert.equal(auditEvents(env.bff, 'logout').at(-1)?.['refreshTokenRevoked'], false);
    assert.ok(env.bff.logs.some((l) => l['msg'] === 'refresh-token revocation failed at logout'));
  });

  it('answers a logout once its bounded wait for the revocation is over when the IdP does not answer, and the revocation goes on', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const sessionId = browser.sessionId!;
    const refreshToken = await refreshTokenOf(env.bff, browser);
    let answerRevocation!: () => void;
    env.bff.faults.revocationHeld = new Promise<void>((resolve) => { answerRevocation = resolve; });
    const waitsBefore = env.bff.waits.length;
    let answered = false;
    const logout = browser.request('POST', '/bff/logout').finally(() => { answered = true; });
    try {
      while (env.bff.waits.length === waitsBefore) await new Promise((resolve) => setImmediate(resolve));
      const wait = env.bff.waits.at(-1)!;
      assert.equal(wait.ms, d.LOGOUT_REVOCATION_WAIT_MS);
      assert.equal(answered, false, 'the logout waits for the revocation while its bound lasts');
      wait.end();
      const res = await logout;
      assert.equal(res.statusCode, 200);
      assert.ok((res.json() as { redirectTo: string }).redirectTo.startsWith(env.system.idp.issuer));
      assert.equal(auditEvents(env.bff, 'logout').at(-1)?.['refreshTokenRevoked'], 'pending');
      const stale = new Browser(env.bff);
      stale.cookies.set(d.SESSION_COOKIE, sessionId);
      assert.equal((await stale.request('GET', '/bff/user')).statusCode, 401, 'the session ended before the answer');
    } finally {
      answerRevocation();
      delete env.bff.faults.revocationHeld;
    }
    while (!env.bff.logs.some((l) => l['msg'] === 'refresh-token revocation answered after logout')) await new Promise((resolve) => setImmediate(resolve));
    const refresh = await tokenRequest(env.system.idp.issuer, { grant_type: 'refresh_token', refresh_token: refreshToken }, ['bff', d.DEV_CLIENT_SECRET]);
    assert.equal(refresh.status, 400, 'the revocation reached the IdP after the logout had answered');
    assert.equal(refresh.body['error'], 'invalid_grant');
  });

  it('never puts a token into an answer: login, user, renew, API calls, logout', async () => {
    const browser = new Browser(env.bff);
    const answers: Array<{ what: string; text: string }> = [];
    const record = (what: string, res: { body: string; headers: Record<string, unknown> }) => answers.push({ what, text: res.body + JSON.stringify(res.headers) });
    const location = await browser.startLogin('alice', 'demo-alice');
    record('callback', await browser.callback(location));
    const session = await env.bff.sessions.load(browser.sessionId);
    for (const [method, url] of [['GET', '/'], ['GET', '/config.json'], ['GET', '/bff/user'], ['POST', '/bff/renew'], ['GET', '/api/UserOne'], ['GET', '/api/notes'], ['GET', '/bff/user']] as const) {
      record(`${method} ${url}`, await browser.request(method, url));
    }
    const renewed = await env.bff.sessions.load(browser.sessionId);
    const logout = await browser.request('POST', '/bff/logout');
    const secrets = [session!.tokens.accessToken, session!.tokens.refreshToken!, renewed!.tokens.accessToken, renewed!.tokens.refreshToken!, session!.tokens.idToken!, renewed!.tokens.idToken!];
    for (const { what, text } of answers) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${what} carries a token`);
      assert.doesNotMatch(text, /eyJ[\w-]+\.eyJ[\w-]+\./, what);
    }
    record('logout', logout);
    assert.equal(new URL((logout.json() as { redirectTo: string }).redirectTo).searchParams.get('logout_hint'), renewed!.sid, 'the hint is the IdP session id');
    for (const { what, text } of answers) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${what} carries a token`);
      assert.doesNotMatch(text, /eyJ[\w-]+\.eyJ[\w-]+\./, what);
    }
  });

  it('writes no token, session id or secret into any log line', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    await browser.request('GET', '/api/UserOne');
    await browser.request('POST', '/bff/renew');
    const sessionId = browser.sessionId!;
    const session = await env.bff.sessions.load(sessionId);
    await browser.request('POST', '/bff/logout');
    const log = env.bff.rawLogs.join('\n');
    for (const secret of [session!.tokens.accessToken, session!.tokens.refreshToken!, session!.tokens.idToken!, sessionId, d.DEV_CLIENT_SECRET, DEV_API_SECRET]) {
      assert.ok(!log.includes(secret), 'a secret in the log');
    }
    assert.doesNotMatch(log, /eyJ[\w-]+\.eyJ/);
    assert.doesNotMatch(log, /[?&]code=/);
  });
});

describe('a logout naming the session by its ID token (BFF_LOGOUT_HINT=id_token, for an IdP that ignores logout_hint)', () => {
  const env = useSystem({ BFF_LOGOUT_HINT: 'id_token' });

  it('sends the ID token as id_token_hint and no logout_hint; the IdP ends its session at once', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    const { tokens } = (await env.bff.sessions.load(browser.sessionId))!;
    const res = await browser.request('POST', '/bff/logout');
    const end = new URL((res.json() as { redirectTo: string }).redirectTo);
    assert.equal(end.searchParams.get('id_token_hint'), tokens.idToken);
    assert.equal(end.searchParams.get('logout_hint'), null);
    assert.match(await (await followIdpRedirects(browser.idp, env.system.idp.issuer, end)).text(), /data-auto-submit/);
  });
});

describe('a renewal margin as long as the access token lives', () => {
  const clock = new ManualClock();
  // The IdP's access tokens live 300 s; the BFF is told to renew 3600 s before expiry.
  const env = useSystem({ BFF_RENEW_BEFORE_EXPIRY: '3600' }, clock);

  it('renews once a quarter of the token\'s life has passed, not on every request', async () => {
    const browser = new Browser(env.bff);
    await browser.login();
    env.bff.tokenCalls.length = 0;
    const user = (await browser.request('GET', '/bff/user')).json() as { accessTokenIssuedAt: number; accessTokenExpiresAt: number; renewsAt: number };
    assert.equal(user.renewsAt, user.accessTokenIssuedAt + (user.accessTokenExpiresAt - user.accessTokenIssuedAt) / 4);
    for (let i = 0; i < 3; i++) assert.equal((await browser.request('GET', '/api/UserOne')).statusCode, 200);
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 200);
    assert.deepEqual(env.bff.tokenCalls, [], 'no refresh before a quarter of the token\'s life');
    clock.advance(user.renewsAt - clock.now());
    assert.equal((await browser.request('GET', '/api/UserOne')).statusCode, 200);
    assert.deepEqual(env.bff.tokenCalls, ['refresh_token'], 'one refresh once it has passed');
  });
});
