// The IdP's cookies arriving twice (decision 0060). Cookies are not separated by port, and the IdP's
// carry no prefix over http: another site on the host (or, for a cookie without `__Host-`, on a
// sibling host) can place its own signed session cookie beside the user's, ahead of it with a
// longer path, and Koa reads the first. A Cookie header naming one of the IdP's cookies (or its
// .sig) twice is answered with an error page: nothing read, nothing set, no code issued. With an
// https issuer the session cookie is `__Host-idp-session`, which no sibling host and no path can
// shadow (host-header.test.ts checks how a login sets it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { cookieNames, cookieSentTwice } from '../src/cookie-names.ts';
import { IDP_COOKIE_NAMES, IDP_HOST_SESSION_COOKIE, LOGIN_BROWSER_COOKIE } from '../src/defaults.ts';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { authorizationRequest, login, rpConfig, userAgent } from '../../../tests/support/oidc-rp.ts';

describe('which cookie names count as the IdP\'s, sent twice', () => {
  it('names the session cookie __Host- only for an https issuer; the path-bound ones keep oidc-provider\'s names', () => {
    assert.deepEqual(cookieNames('http://localhost:4400'), IDP_COOKIE_NAMES);
    assert.deepEqual(cookieNames('https://login.example.com/'), { ...IDP_COOKIE_NAMES, session: IDP_HOST_SESSION_COOKIE });
  });

  it('finds any of them, or its .sig, twice; never a name that only contains one, or a single copy', () => {
    const names = Object.values(IDP_COOKIE_NAMES);
    for (const name of [...names, ...names.map((n) => `${n}.sig`)]) {
      assert.equal(cookieSentTwice(`${name}=a; theme=dark; ${name}=b`, names), name);
      assert.equal(cookieSentTwice(`${name}=a;${name} =a`, names), name);
      assert.equal(cookieSentTwice(`${name}=a; theme=dark`, names), undefined);
    }
    assert.equal(cookieSentTwice('_session=a; _session.sig=b; _interaction=c; _interaction.sig=d; _interaction_resume=e; _interaction_resume.sig=f', names), undefined);
    assert.equal(cookieSentTwice('x_session=a; _session=b; _sessionx=c; note=_session=d', names), undefined);
    assert.equal(cookieSentTwice(undefined, names), undefined);
  });
});

describe('an IdP cookie sent twice', () => {
  let idp: InProcessIdp;
  let config: oidc.Configuration;
  let alice: string;
  let bob: string;
  before(async () => {
    idp = await startIdpInProcess();
    config = await rpConfig(idp.issuer, 'spa');
    const session = (ua: ReturnType<typeof userAgent>) => ['_session', '_session.sig'].map((n) => `${n}=${ua.jar.cookies.get(n)}`).join('; ');
    alice = session((await login(config, 'alice', 'demo-alice')).ua);
    bob = session((await login(config, 'bob', 'demo-bob')).ua);
  });
  after(() => idp.close());

  /** A silent authorization request (prompt=none) with this Cookie header: the IdP's answer. */
  async function silent(cookie: string): Promise<Response> {
    const { url } = await authorizationRequest(config, { prompt: 'none' });
    return fetch(url, { headers: { cookie }, redirect: 'manual' });
  }

  it('one session signs in silently, as its user', async () => {
    for (const cookie of [alice, bob]) {
      const res = await silent(cookie);
      assert.equal(res.status, 303);
      assert.ok(new URL(res.headers.get('location')!).searchParams.has('code'));
    }
  });

  it('two sessions, in either order, or one cookie and another\'s signature: an error page, no code, no cookie, logged', async () => {
    const linesBefore = idp.logs.length;
    const cases = [`${alice}; ${bob}`, `${bob}; ${alice}`, `${alice}; ${bob.split('; ')[1]}`, `${alice}; ${alice}`];
    for (const cookie of cases) {
      const res = await silent(cookie);
      assert.equal(res.status, 400, cookie);
      assert.equal(res.headers.get('location'), null);
      assert.equal(res.headers.getSetCookie().length, 0);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.match(res.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
      assert.match(await res.text(), /sign-in cookie of this site twice/);
    }
    const logged = idp.logs.slice(linesBefore).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['event'] === 'cookie_sent_twice');
    assert.equal(logged.length, cases.length);
    assert.ok(logged.every((l) => String(l['name']).startsWith('_session') && l['path'] === '/authorize'));
    assert.ok(!idp.logs.slice(linesBefore).some((l) => l.includes(alice.split('=')[1]!.split(';')[0]!)), 'no cookie value logged');
  });

  it('the interaction and resume cookies of a login, twice, stop the login at the login page and at its resumption', async () => {
    const ua = userAgent();
    const { url } = await authorizationRequest(config);
    const start = await ua.request(url);
    assert.equal(start.status, 303);
    const loginPage = new URL(start.headers.get('location')!, idp.issuer);
    // With the browser key the login was bound to (decision 0055): the page answers no other browser.
    const interaction = `_interaction=${ua.jar.cookies.get('_interaction')}; _interaction.sig=${ua.jar.cookies.get('_interaction.sig')}; ${LOGIN_BROWSER_COOKIE}=${ua.jar.cookies.get(LOGIN_BROWSER_COOKIE)}`;
    const resume = `_interaction_resume=${ua.jar.cookies.get('_interaction_resume')}; _interaction_resume.sig=${ua.jar.cookies.get('_interaction_resume.sig')}`;
    assert.equal((await fetch(loginPage, { headers: { cookie: interaction } })).status, 200, 'one copy: the login page');
    assert.equal((await fetch(loginPage, { headers: { cookie: `${interaction}; _interaction=other` } })).status, 400);
    const resumeUrl = new URL(`/authorize/${loginPage.pathname.split('/')[2]}`, idp.issuer);
    const resumed = await fetch(resumeUrl, { headers: { cookie: `${resume}; ${resume}` }, redirect: 'manual' });
    assert.equal(resumed.status, 400);
    assert.equal(resumed.headers.get('location'), null);
  });

  it('static files and health checks are not refused (they read no cookie)', async () => {
    assert.equal((await fetch(new URL('/assets/idp.css', idp.issuer), { headers: { cookie: `${alice}; ${bob}` } })).status, 200);
  });
});

describe('an IdP with an https issuer', () => {
  let idp: InProcessIdp;
  let base: string;
  before(async () => {
    idp = await startIdpInProcess((port) => ({ IDP_ISSUER: `https://localhost:${port}` }));
    base = `http://127.0.0.1:${new URL(idp.issuer).port}`;
  });
  after(() => idp.close());

  it('refuses its __Host- session cookie twice, and no longer counts oidc-provider\'s _session as its own', async () => {
    const twice = await fetch(`${base}/oidc/logout`, { headers: { cookie: `${IDP_HOST_SESSION_COOKIE}=a; ${IDP_HOST_SESSION_COOKIE}=b` } });
    assert.equal(twice.status, 400);
    const foreign = await fetch(`${base}/oidc/logout`, { headers: { cookie: '_session=a; _session=b' } });
    assert.equal(foreign.status, 200, 'the logout page: _session is some other application\'s cookie now');
  });
});
