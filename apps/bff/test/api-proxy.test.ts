// /api/* through the BFF against the real API: the access token attached, the browser's Cookie
// and Authorization never forwarded (asserted on the API side), the API's 401/403 passed
// through, paths outside /api/ refused, notes round trip, and 401 without a session.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { BODY_LIMIT_BYTES, SESSION_COOKIE } from '../src/defaults.ts';
import { upstreamPath } from '../src/routes/api-proxy.ts';
import { Browser, useSystem } from './support/system.ts';

describe('the API through the BFF', () => {
  const env = useSystem();

  it('answers alice with user one data, sending the API her access token and nothing of the browser', async () => {
    const browser = new Browser(env.bff);
    await browser.login('alice', 'demo-alice');
    env.system.api.received.length = 0;
    const res = await browser.request('GET', '/api/UserOne', { headers: { authorization: 'Bearer forged-by-the-page', origin: 'http://localhost:4300' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), ['user one data']);
    assert.equal(env.system.api.received.length, 1);
    const seen = env.system.api.received[0]!.headers;
    assert.equal(seen['cookie'], undefined, 'the browser\'s Cookie never reaches the API');
    assert.match(seen['authorization'] ?? '', /^Bearer eyJ/);
    assert.notEqual(seen['authorization'], 'Bearer forged-by-the-page');
    assert.equal(seen['x-csrf'], undefined);
    assert.equal(seen['origin'], undefined);
    assert.ok(!JSON.stringify(seen).includes(browser.sessionId!), 'the session id appears nowhere upstream');
  });

  it('passes the API\'s 403 through: bob may not use the API', async () => {
    const browser = new Browser(env.bff);
    await browser.login('bob', 'demo-bob');
    const res = await browser.request('GET', '/api/UserOne');
    assert.equal(res.statusCode, 403);
    assert.match(res.headers['www-authenticate'] as string, /insufficient_scope/);
  });

  it('adds, lists and deletes notes with JSON bodies', async () => {
    const browser = new Browser(env.bff);
    await browser.login('alice', 'demo-alice');
    const created = await browser.request('POST', '/api/notes', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'through the BFF' }) });
    assert.equal(created.statusCode, 201, created.body);
    const note = created.json() as { id: string; text: string };
    assert.equal(note.text, 'through the BFF');
    const list = await browser.request('GET', '/api/notes');
    assert.ok((list.json() as Array<{ id: string }>).some((n) => n.id === note.id));
    const deleted = await browser.request('DELETE', `/api/notes/${note.id}`);
    assert.equal(deleted.statusCode, 204);
  });

  it('refuses a body announced larger than the limit, before calling the API', async () => {
    const browser = new Browser(env.bff);
    await browser.login('alice', 'demo-alice');
    env.system.api.received.length = 0;
    const res = await browser.request('POST', '/api/notes', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x'.repeat(BODY_LIMIT_BYTES) }) });
    assert.equal(res.statusCode, 413);
    assert.equal(env.system.api.received.length, 0);
  });

  it('answers 401 without a session, and never calls the API', async () => {
    env.system.api.received.length = 0;
    const browser = new Browser(env.bff);
    const res = await browser.request('GET', '/api/UserOne');
    assert.equal(res.statusCode, 401);
    browser.cookies.set(SESSION_COOKIE, 'B'.repeat(43));
    assert.equal((await browser.request('GET', '/api/UserOne')).statusCode, 401);
    assert.equal(env.system.api.received.length, 0);
  });

  it('refuses paths outside /api/, encoded or not, before calling the API', async () => {
    const browser = new Browser(env.bff);
    await browser.login('alice', 'demo-alice');
    env.system.api.received.length = 0;
    await env.bff.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = env.bff.app.server.address() as AddressInfo;
    const raw = (path: string) => new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { 'x-csrf': '1', cookie: browser.cookieHeader() } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    for (const path of ['/api/../admin', '/api/..%2fadmin', '/api/%2e%2e/admin', '/api/%2E%2E%2Fhealthz', '/api/..%5cadmin', '/api/notes/..',
      '/api//evil.example/x', '/api/.%2e/readyz', '/api/%252e%252e/admin', '/api/x\\..\\..\\admin']) {
      const status = await raw(path);
      assert.ok(status === 400 || status === 404, `${path}: ${status}`);
    }
    assert.deepEqual(env.system.api.received.map((r) => r.url), [], 'nothing reached the API');
    assert.equal(upstreamPath('/api/UserOne?x=1'), '/api/UserOne');
    assert.equal(upstreamPath('/api/notes/abc-123'), '/api/notes/abc-123');
  });
});
