// CSRF: every /bff/* route but login, callback and backchannel, and every /api/* call, needs
// X-CSRF: 1 (403 problem details otherwise, audited), whatever the method, the casing or the
// encoding of the path, with or without a session; and the BFF answers no CORS at all.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { needsCsrfHeader } from '../src/plugins/csrf.ts';
import { auditEvents, Browser, useSystem } from './support/system.ts';

const PROTECTED: Array<[string, string]> = [
  ['GET', '/bff/user'], ['POST', '/bff/renew'], ['POST', '/bff/logout'], ['GET', '/bff/logout'], ['POST', '/bff/user'],
  ['GET', '/bff/nonexistent'], ['GET', '/api/UserOne'], ['POST', '/api/notes'], ['DELETE', '/api/notes/1'], ['PUT', '/api/notes/1'],
  ['OPTIONS', '/api/notes'], ['PATCH', '/api/x'], ['GET', '/%62ff/user'], ['POST', '/%62ff/logout'], ['GET', '/%61pi/UserOne'],
];

describe('CSRF protection', () => {
  const env = useSystem();
  let browser: Browser;
  before(async () => {
    browser = new Browser(env.bff);
    await browser.login('alice', 'demo-alice');
  });

  it('refuses every protected route without X-CSRF: 1, with a session, before anything happens', async () => {
    env.system.api.received.length = 0;
    for (const [method, url] of PROTECTED) {
      for (const headers of [{}, { 'x-csrf': '0' }, { 'x-csrf': 'true' }, { 'x-requested-with': 'XMLHttpRequest' }] as Array<Record<string, string>>) {
        const res = await browser.request(method, url, { csrf: false, headers });
        assert.equal(res.statusCode, 403, `${method} ${url} ${JSON.stringify(headers)}`);
        assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
        assert.equal(res.headers['access-control-allow-origin'], undefined);
      }
    }
    assert.equal(env.system.api.received.length, 0, 'no request reached the API');
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 200, 'the session survived (no logout happened)');
    const refusals = auditEvents(env.bff, 'csrf_refused');
    assert.ok(refusals.length >= PROTECTED.length);
  });

  it('lets the header through on every protected route', async () => {
    const res = await browser.request('GET', '/api/UserOne');
    assert.equal(res.statusCode, 200);
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 200);
  });

  it('needs no header for the login navigations, the back-channel endpoint and the SPA\'s files', async () => {
    assert.equal((await browser.request('GET', '/bff/login', { csrf: false })).statusCode, 302);
    assert.equal((await browser.request('GET', '/bff/callback?state=x', { csrf: false })).statusCode, 400);
    for (const path of ['/', '/notes', '/config.json', '/main-ABCDEFGH.js', '/healthz']) {
      assert.equal((await browser.request('GET', path, { csrf: false })).statusCode, 200, path);
    }
    assert.equal(needsCsrfHeader('/bff/backchannel'), false);
    assert.equal(needsCsrfHeader('/BFF/User'), true);
    assert.equal(needsCsrfHeader('/api'), true);
  });

  it('answers a CORS preflight from another origin with no CORS header at all', async () => {
    const res = await browser.request('OPTIONS', '/api/notes', {
      csrf: false,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-csrf, content-type' },
    });
    assert.ok(res.statusCode >= 400);
    for (const name of Object.keys(res.headers)) assert.doesNotMatch(name, /^access-control-/);
    const get = await browser.request('GET', '/bff/user', { headers: { origin: 'https://evil.example' } });
    for (const name of Object.keys(get.headers)) assert.doesNotMatch(name, /^access-control-/);
  });
});
