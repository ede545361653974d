// Interaction fixation: an attacker starts a login in his own browser and gets its interaction
// cookie into the victim's (from a sibling host, a plain-http answer on the way, another port of
// localhost), then sends her to the genuine login page of that interaction. The password she
// types there must not sign his browser in: a login in progress answers only the browser that
// started it, known by a key of its own that no other host can set (decision 0055).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { SPA_REDIRECT_URI, authorizationRequest, followIdpRedirects, rpConfig, submitLogin, userAgent, type UserAgent } from '../../../tests/support/oidc-rp.ts';
import { LOGIN_BROWSER_COOKIE } from '../src/defaults.ts';

let idp: InProcessIdp;
let spa: oidc.Configuration;
/** Passwords checked by the user directory. */
let checks = 0;

before(async () => {
  idp = await startIdpInProcess({}, {
    wrapUsers: (users) => ({ ...users, findBySub: (sub) => users.findBySub(sub), authenticate: (u, p) => { checks++; return users.authenticate(u, p); } }),
  });
  spa = await rpConfig(idp.issuer, 'spa');
});
after(async () => idp.close());

const INTERACTION_COOKIES = ['_interaction', '_interaction.sig'];
const RESUME_COOKIES = ['_interaction_resume', '_interaction_resume.sig'];
const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(),
});

/** The attacker's own login, started: his browser, its login page's address, and the victim's browser holding his interaction cookie. */
async function plantedLogin() {
  const attacker = userAgent();
  const req = await authorizationRequest(spa);
  const started = await attacker.request(req.url);
  const page = new URL(started.headers.get('location')!, idp.issuer);
  assert.match(page.pathname, /^\/interaction\//);
  const victim = userAgent();
  for (const name of INTERACTION_COOKIES) victim.jar.cookies.set(name, attacker.jar.cookies.get(name)!);
  return { attacker, req, page, victim };
}

/** Where the attacker's browser gets when it goes on with its login: a code only if someone signed in there. */
async function attackerGoesOn(attacker: UserAgent, page: URL): Promise<string> {
  const res = await followIdpRedirects(attacker, idp.issuer, new URL(`/authorize/${page.pathname.split('/')[2]}`, idp.issuer));
  await res.arrayBuffer();
  return res.headers.get('location') ?? `page ${res.status}`;
}

describe('a login in progress answers only the browser that started it', () => {
  test('the victim holding the attacker\'s interaction cookie gets no login page', async () => {
    const { page, victim } = await plantedLogin();
    const res = await victim.request(page);
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.doesNotMatch(html, /name="password"/);
    assert.match(html, /another browser/);
  });

  test('her password posted to it is never checked, and the attacker\'s browser is not signed in', async () => {
    const { attacker, page, victim } = await plantedLogin();
    const before = checks;
    const res = await victim.request(new URL(`${page.pathname}/login`, idp.issuer), form({ username: 'alice', password: 'demo-alice' }));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.equal(checks, before, 'no password was checked');
    assert.doesNotMatch(await attackerGoesOn(attacker, page), /code=/);
  });

  test('nor can she cancel it', async () => {
    const { attacker, page, victim } = await plantedLogin();
    const res = await victim.request(new URL(`${page.pathname}/abort`, idp.issuer), form({}));
    assert.equal(res.status, 400);
    // The attacker's own login is still his to finish.
    const own = await submitLogin(attacker, idp.issuer, await attacker.request(page), 'bob', 'demo-bob');
    assert.ok(own.headers.get('location')?.startsWith(`${SPA_REDIRECT_URI}/?code=`));
  });

  test('the attacker\'s browser key sent ahead of the victim\'s own is refused, as any IdP cookie sent twice (decision 0060)', async () => {
    const victim = userAgent();
    await (await followIdpRedirects(victim, idp.issuer, (await authorizationRequest(spa)).url)).arrayBuffer();
    assert.ok(victim.jar.cookies.get(LOGIN_BROWSER_COOKIE), 'the victim has a browser key of her own');
    const { attacker, page } = await plantedLogin();
    for (const name of INTERACTION_COOKIES) victim.jar.cookies.set(name, attacker.jar.cookies.get(name)!);
    const cookie = `${LOGIN_BROWSER_COOKIE}=${attacker.jar.cookies.get(LOGIN_BROWSER_COOKIE)}; ${victim.jar.header()}`;
    const res = await fetch(page, { headers: { cookie }, redirect: 'manual' });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.doesNotMatch(html, /name="password"/);
    assert.match(html, /twice/);
  });

  test('two logins started in one browser both finish (one key per browser, kept)', async () => {
    const ua = userAgent();
    const pages: Array<{ html: string; cookies: Array<[string, string]> }> = [];
    for (let i = 0; i < 2; i++) {
      const page = await followIdpRedirects(ua, idp.issuer, (await authorizationRequest(spa)).url);
      // Each login's interaction and resume cookies are scoped to its own paths: keep each login's own.
      pages.push({ html: await page.text(), cookies: [...INTERACTION_COOKIES, ...RESUME_COOKIES].map((n) => [n, ua.jar.cookies.get(n)!]) });
    }
    for (const { html, cookies } of pages) {
      for (const [name, value] of cookies) ua.jar.cookies.set(name, value);
      const done = await submitLogin(ua, idp.issuer, new Response(html, { status: 200 }), 'alice', 'demo-alice');
      assert.ok(done.headers.get('location')?.startsWith(`${SPA_REDIRECT_URI}/?code=`), `got ${done.status} ${done.headers.get('location')}`);
    }
  });
});

test('on an https issuer the browser key is a __Host- cookie: Secure, Path=/, no Domain, so no other host or plain-http answer can set it', async () => {
  const secureIdp = await startIdpInProcess((p) => ({ IDP_ISSUER: `https://localhost:${p}` }));
  try {
    const { url } = await authorizationRequest(spa);
    // The IdP listens on plain http on loopback, as behind a TLS-terminating proxy.
    const res = await fetch(new URL(`${url.pathname}${url.search}`, `http://localhost:${new URL(secureIdp.issuer).port}`), { redirect: 'manual' });
    assert.equal(res.status, 303);
    const line = res.headers.getSetCookie().find((l) => l.startsWith(`__Host-${LOGIN_BROWSER_COOKIE}=`));
    assert.ok(line, res.headers.getSetCookie().join('\n'));
    assert.match(line, /;\s*secure\b/i);
    assert.match(line, /;\s*path=\/(;|$)/i);
    assert.doesNotMatch(line, /;\s*domain=/i);
  } finally {
    await secureIdp.close();
  }
});
