// Every refusal and failure the BFF answers itself is RFC 9457 problem details with no framework
// detail (Fastify's own error shape, its codes or an exception's message never reach the browser),
// whichever route or stage refuses: a URL that cannot be decoded, a body that cannot be parsed,
// a query that fails its schema, a method the proxy does not forward, a request Node's HTTP parser
// refuses. And a renewal that waits
// past its bound for another instance's lock on the same session is a 503, not a 500.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as d from '../src/defaults.ts';
import { sha256 } from '../src/sessions/session-manager.ts';
import { LOCK_POLL_MS } from '../src/sessions/session-store.ts';
import { assertParserRefusalsAreProblems } from '../../../tests/support/parser-refusals.ts';
import { Browser, ManualClock, sameBrowserOn, startBff, startSystem, type BffUnderTest, type System } from './support/system.ts';

function assertProblem(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, what: string): void {
  assert.equal(res.statusCode, status, `${what}: ${res.body}`);
  assert.match(res.headers['content-type'] as string, /^application\/problem\+json/, what);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  assert.equal(body['status'], status, what);
  assert.equal(body['type'], 'about:blank', what);
  assert.equal(typeof body['title'], 'string', what);
  for (const key of Object.keys(body)) assert.ok(['type', 'title', 'status', 'detail'].includes(key), `${what}: ${key}`);
  assert.doesNotMatch(res.body, /FST_|statusCode/, what);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
}

describe('the BFF\'s own errors', () => {
  let system: System;
  let a: BffUnderTest;
  let b: BffUnderTest;
  const clock = new ManualClock();
  let browser: Browser;

  before(async () => {
    system = await startSystem();
    const dir = mkdtempSync(join(tmpdir(), 'bff-errors-'));
    const env = { BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url };
    a = await startBff(env, clock, dir);
    b = await startBff(env, clock, dir);
    browser = new Browser(a);
    await browser.login();
  });
  after(async () => {
    await b?.app.close();
    await a?.dispose();
    await system?.dispose();
  });

  it('are problem details at every stage: URL, body, schema, media type, method', async () => {
    system.api.received.length = 0;
    const cases: Array<[string, string, number, { headers?: Record<string, string>; body?: string }]> = [
      ['GET', '/%zz', 400, {}],
      ['GET', '/api/notes/%E0%A4%A', 400, {}],
      ['GET', '/bff/user%zz', 400, {}],
      ['POST', '/bff/renew', 400, { headers: { 'content-type': 'application/json' }, body: '{' }],
      ['POST', '/bff/logout', 400, { headers: { 'content-type': 'application/json' }, body: '{"a":' }],
      ['POST', '/bff/logout', 415, { headers: { 'content-type': 'application/xml' }, body: '<a/>' }],
      ['POST', '/bff/renew', 413, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ x: 'x'.repeat(d.BODY_LIMIT_BYTES) }) }],
      ['GET', '/bff/login?returnTo=/a&returnTo=/b', 400, {}],
      ['QUERY', '/api/notes', 405, { headers: { 'content-type': 'application/json' }, body: '{}' }],
      ['TRACE', '/api/notes', 405, {}],
    ];
    for (const [method, url, status, init] of cases) {
      assertProblem(await browser.request(method, url, init), status, `${method} ${url}`);
    }
    assert.equal(system.api.received.length, 0, 'nothing reached the API');
    assert.equal((await browser.request('GET', '/bff/user')).statusCode, 200, 'the session lives on');
  });

  it('answers what Node\'s HTTP parser refuses (malformed, headers too large) as problem details, and closes the connection', async () => {
    await b.app.listen({ port: 0, host: '127.0.0.1' });
    await assertParserRefusalsAreProblems((b.app.server.address() as { port: number }).port, '/api/notes', '/bff/logout');
  });

  it('answers 503 when another instance holds the session\'s refresh lock past the wait, and renews once it is free', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let holding!: () => void;
    const taken = new Promise<void>((resolve) => { holding = resolve; });
    // Instance b renews the same session and does not finish.
    const holder = b.store.withLock(`refresh:${sha256(browser.sessionId!)}`, () => {
      holding();
      return held;
    }, { ttlMs: 3600_000, waitMs: 1000 });
    await taken;
    let answered = false;
    const renewal = sameBrowserOn(a, browser).request('POST', '/bff/renew').finally(() => { answered = true; });
    // The wait is bounded by the injected clock: move it on until the renewal gives up.
    while (!answered) {
      clock.advance(d.REFRESH_LOCK_WAIT_MS / 2);
      await sleep(LOCK_POLL_MS);
    }
    const res = await renewal;
    assertProblem(res, 503, 'renewal behind a held lock');
    assert.equal(res.headers['retry-after'], '1');
    release();
    await holder;
    assert.equal((await browser.request('POST', '/bff/renew')).statusCode, 200, 'the session was not ended');
  });
});
