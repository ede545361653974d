// The API as a client sees it: policies and 401 vs 403, authenticated-by-default (unknown paths
// too), case-insensitive paths, notes ownership and validation, and no client input making a 500.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { SCOPE, startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

let idp: TestIssuer;
let api: TestApi;
let alice: string;
let bob: string;
let bobNoScope: string;
let aliceFromSwagger: string;
let aliceFromOtherClient: string;

before(async () => {
  idp = await startTestIssuer();
  api = await startApi(idp);
  alice = await idp.sign();
  bob = await idp.sign(idp.claims({ sub: 'bob' }));
  bobNoScope = await idp.sign(idp.claims({ sub: 'bob', scope: undefined }));
  aliceFromSwagger = await idp.sign(idp.claims({ azp: 'swagger', client_id: 'swagger' }));
  aliceFromOtherClient = await idp.sign(idp.claims({ azp: 'other-spa', client_id: 'other-spa' }));
});
after(async () => {
  await api.dispose();
  await idp.close();
});

const inject = (opts: InjectOptions) => api.app.inject(opts);

describe('authentication and policies', () => {
  test('GET /api/UserOne: 401 without a token, 403 without the scope, 403 from another client, 200 otherwise', async () => {
    const none = await inject({ url: '/api/UserOne' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.deepEqual(none.json(), { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'An access token is required.' });

    const noScope = await inject({ url: '/api/UserOne', headers: bearer(bobNoScope) });
    assert.equal(noScope.statusCode, 403);
    assert.equal(noScope.headers['www-authenticate'], `Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="${SCOPE}"`);
    assert.match(String(noScope.headers['content-type']), /^application\/problem\+json/);

    const otherClient = await inject({ url: '/api/UserOne', headers: bearer(aliceFromOtherClient) });
    assert.equal(otherClient.statusCode, 403);
    assert.equal(otherClient.headers['www-authenticate'], undefined);

    // The development default trusts Swagger UI's client too, so that "Try it out" works.
    const fromSwagger = await inject({ url: '/api/UserOne', headers: bearer(aliceFromSwagger) });
    assert.equal(fromSwagger.statusCode, 200);

    const ok = await inject({ url: '/api/UserOne', headers: bearer(alice) });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), ['user one data']);
    assert.equal(ok.headers['cache-control'], 'no-store');
  });

  test('the path is matched case-insensitively, as ASP.NET does, and still protected', async () => {
    for (const url of ['/api/userone', '/API/USERONE', '/Api/UserOne']) {
      assert.equal((await inject({ url })).statusCode, 401, url);
      assert.equal((await inject({ url, headers: bearer(alice) })).statusCode, 200, url);
    }
  });

  test('a trailing slash is the same route, with its policy; other spellings are no route, after authentication (decision 0058)', async () => {
    for (const [method, url] of [['GET', '/api/UserOne/'], ['GET', '/api/notes/'], ['POST', '/api/notes/'], ['DELETE', '/api/notes/no-such-id/'], ['HEAD', '/API/NOTES/']] as const) {
      const payload = method === 'POST' ? { text: 'by a trailing slash' } : undefined;
      assert.equal((await inject({ method, url })).statusCode, 401, `${method} ${url}`);
      assert.equal((await inject({ method, url, headers: bearer(bobNoScope), payload })).statusCode, 403, `${method} ${url} without scope`);
      assert.equal((await inject({ method, url, headers: bearer(aliceFromOtherClient), payload })).statusCode, 403, `${method} ${url} other client`);
      const ok = await inject({ method, url, headers: bearer(alice), payload });
      assert.equal(ok.statusCode, { GET: 200, HEAD: 200, POST: 201, DELETE: 404 }[method], `${method} ${url}`);
      if (method === 'DELETE') assert.equal(ok.json().detail, 'No such note.', 'the route, not the 404 handler');
    }
    const added = (await inject({ url: '/api/notes/', headers: bearer(alice) })).json() as Array<{ id: string; text: string }>;
    const note = added.find((n) => n.text === 'by a trailing slash')!;
    assert.equal((await inject({ method: 'DELETE', url: `/api/notes/${note.id}/`, headers: bearer(bob) })).statusCode, 404, 'still owner-scoped');
    assert.equal((await inject({ method: 'DELETE', url: `/api/notes/${note.id}/`, headers: bearer(alice) })).statusCode, 204);
    for (const url of ['/healthz/', '/readyz/']) assert.equal((await inject({ url })).statusCode, 200, url);
    for (const url of ['//api/UserOne', '/api//UserOne', '/api/UserOne%2F', '/api/UserOne;x', '/api/UserOne//']) {
      assert.equal((await inject({ url })).statusCode, 401, url);
      assert.equal((await inject({ url, headers: bearer(alice) })).statusCode, 404, url);
    }
    const doc = (await inject({ url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(Object.keys(doc.paths).every((p) => p === '/' || !p.endsWith('/')), 'one spelling in the document');
  });

  test('a path asked with a method it does not have: 405 naming those it has, told only to a valid token', async () => {
    const cases = [
      ['PUT', '/api/notes', 'GET, HEAD, POST'],
      ['PATCH', '/api/notes/some-id', 'DELETE'],
      ['GET', '/api/notes/some-id', 'DELETE'],
      ['POST', '/api/UserOne', 'GET, HEAD'],
      ['DELETE', '/API/USERONE/', 'GET, HEAD'],
      ['OPTIONS', '/api/notes', 'GET, HEAD, POST'], // not a preflight (no Origin)
      ['POST', '/swagger/static/swagger-ui.css', 'GET, HEAD'],
    ] as const;
    for (const [method, url, allow] of cases) {
      assert.equal((await inject({ method, url })).statusCode, 401, `${method} ${url} without a token`);
      const res = await inject({ method, url, headers: bearer(alice) });
      assert.equal(res.statusCode, 405, `${method} ${url}`);
      assert.equal(res.headers.allow, allow, `${method} ${url}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(res.json().title, 'Method Not Allowed');
    }
    // No such path, or a file missing under a route that has the method: 404, without Allow.
    for (const url of ['/api/admin', '/swagger/static/no-such-file.js']) {
      const res = await inject({ url, headers: bearer(alice) });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.headers.allow, undefined, url);
    }
  });

  test('HEAD is protected like GET', async () => {
    assert.equal((await inject({ method: 'HEAD', url: '/api/UserOne' })).statusCode, 401);
    assert.equal((await inject({ method: 'HEAD', url: '/api/UserOne', headers: bearer(alice) })).statusCode, 200);
  });

  test('unknown paths need a token too: 401 without, 404 with', async () => {
    const none = await inject({ url: '/api/admin' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const known = await inject({ url: '/api/admin', headers: bearer(alice) });
    assert.equal(known.statusCode, 404);
    assert.match(String(known.headers['content-type']), /^application\/problem\+json/);
  });

  test('without a token, nothing about a request but its token is judged: the answer does not reveal the route table', async () => {
    const longId = 'a'.repeat(150);
    const targets = [
      ['POST', '/api/notes'], // a route
      ['POST', '/api/UserOne'], // a path without that method
      ['PUT', '/api/notes'],
      ['POST', '/api/admin'], // no such path
      ['DELETE', `/api/notes/${longId}`], // a parameter longer than the router's default limit
      ['DELETE', `/api/admin/${longId}`],
    ] as const;
    const bodies = [
      { payload: '{"text":', headers: { 'content-type': 'application/json' } },
      { payload: '{"text":"x","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } },
      { payload: JSON.stringify({ text: 'x'.repeat(20_000) }), headers: { 'content-type': 'application/json' } },
      { payload: 'x', headers: { 'content-type': 'text/plain' } },
      { payload: '', headers: {} },
    ];
    const expected = { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'An access token is required.' };
    for (const [method, url] of targets) {
      for (const b of bodies) {
        const res = await inject({ method, url, ...b });
        const what = `${method} ${url.slice(0, 20)} ${b.headers['content-type'] ?? ''} ${b.payload.slice(0, 12)}`;
        assert.equal(res.statusCode, 401, what);
        assert.equal(res.headers['www-authenticate'], 'Bearer', what);
        assert.deepEqual(res.json(), expected, what);
      }
    }
    // A public route handing over to the 404 handler (a file missing under Swagger UI's assets) too.
    const missingAsset = await inject({ url: '/swagger/static/no-such-file.js' });
    assert.equal(missingAsset.statusCode, 401);
    assert.equal((await inject({ url: '/swagger/static/no-such-file.js', headers: bearer(alice) })).statusCode, 404);
    // With a token, the route table is no secret: the body is judged, and an unknown path is 404.
    const parsed = await inject({ method: 'POST', url: '/api/admin', headers: { ...bearer(alice), 'content-type': 'application/json' }, payload: '{"text":' });
    assert.equal(parsed.statusCode, 400);
    const long = await inject({ method: 'DELETE', url: `/api/notes/${longId}`, headers: bearer(alice) });
    assert.equal(long.statusCode, 400);
    assert.equal(long.json().detail, 'The request does not match the schema.');
  });

  test('public routes: health, readiness, OpenAPI, Swagger UI', async () => {
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/swagger', '/swagger/json', '/swagger/static/swagger-ui.css', '/swagger/oauth2-redirect.html']) {
      const res = await inject({ url });
      assert.equal(res.statusCode, 200, url);
    }
  });

  test('every protected route in the table enforces its policy', async () => {
    const routes = api.app.printRoutes({ commonPrefix: false });
    assert.match(routes, /notes/);
    for (const [method, url] of [['GET', '/api/notes'], ['POST', '/api/notes'], ['DELETE', '/api/notes/x'], ['GET', '/api/UserOne']] as const) {
      assert.equal((await inject({ method, url })).statusCode, 401, `${method} ${url}`);
      assert.equal((await inject({ method, url, headers: bearer(bobNoScope) })).statusCode, 403, `${method} ${url} without scope`);
    }
  });
});

describe('notes', () => {
  test('each user sees, adds and deletes only their own notes; others\' are 404', async () => {
    const add = await inject({ method: 'POST', url: '/api/notes', headers: bearer(alice), payload: { text: 'alice secret' } });
    assert.equal(add.statusCode, 201);
    const note = add.json();
    assert.equal(note.text, 'alice secret');
    assert.match(note.id, /^[0-9a-f-]{36}$/);

    const bobs = await inject({ url: '/api/notes', headers: bearer(bob) });
    assert.deepEqual(bobs.json(), []);
    const steal = await inject({ method: 'DELETE', url: `/api/notes/${note.id}`, headers: bearer(bob) });
    assert.equal(steal.statusCode, 404);
    const alices = await inject({ url: '/api/notes', headers: bearer(alice) });
    assert.deepEqual(alices.json().map((n: { id: string }) => n.id), [note.id], 'still there after bob\'s attempt');

    assert.equal((await inject({ method: 'DELETE', url: `/api/notes/${note.id}`, headers: bearer(alice) })).statusCode, 204);
    assert.equal((await inject({ method: 'DELETE', url: `/api/notes/${note.id}`, headers: bearer(alice) })).statusCode, 404);
    assert.deepEqual((await inject({ url: '/api/notes', headers: bearer(alice) })).json(), []);
  });

  test('text of 1 to 1000 characters, schema-validated; anything else 400 problem details', async () => {
    const post = (payload: unknown, headers: Record<string, string> = {}) =>
      inject({ method: 'POST', url: '/api/notes', headers: { ...bearer(alice), 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });
    assert.equal((await post({ text: 'x'.repeat(1000) })).statusCode, 201);
    assert.equal((await post({ text: 'é'.repeat(1000) })).statusCode, 201, 'characters, not bytes');
    // Characters outside the BMP are whole characters, stored and listed exactly as sent.
    const astral = await post({ text: 'note \u{1F600} \u{10FFFF}' });
    assert.equal(astral.statusCode, 201);
    const listed = (await inject({ url: '/api/notes', headers: bearer(alice) })).json() as Array<{ id: string; text: string }>;
    assert.equal(listed.find((n) => n.id === astral.json().id)?.text, 'note \u{1F600} \u{10FFFF}');
    // A lone UTF-16 surrogate would be stored as U+FFFD: refused rather than changed.
    const halves = [{ text: 'a\ud800b' }, { text: '\udc00' }, { text: 'x\ud83d' }];
    for (const bad of [{ text: '' }, { text: 'x'.repeat(1001) }, {}, { text: 42 }, { text: 'x', owner: 'bob' }, [], 'text', ...halves]) {
      const res = await post(bad);
      assert.equal(res.statusCode, 400, JSON.stringify(bad).slice(0, 30));
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    }
  });

  test('no client input yields a 500', async () => {
    const attempts = [
      { payload: '{"text":', headers: { 'content-type': 'application/json' } },
      { payload: '{"text":"x","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } },
      { payload: '{"text":"x","constructor":{"prototype":{"admin":true}}}', headers: { 'content-type': 'application/json' } },
      { payload: 'text=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      { payload: 'x', headers: { 'content-type': 'text/plain' } },
      { payload: JSON.stringify({ text: 'x'.repeat(20_000) }), headers: { 'content-type': 'application/json' } },
      { payload: '', headers: { 'content-type': 'application/json' } },
    ];
    for (const a of attempts) {
      const res = await inject({ method: 'POST', url: '/api/notes', headers: { ...bearer(alice), ...a.headers }, payload: a.payload });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${a.headers['content-type']} ${a.payload.slice(0, 20)}: ${res.statusCode}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    }
    const weird = await inject({ method: 'DELETE', url: `/api/notes/${'%ff'.repeat(10)}`, headers: bearer(alice) });
    assert.ok(weird.statusCode < 500);
    const long = await inject({ method: 'DELETE', url: `/api/notes/${'a'.repeat(500)}`, headers: bearer(alice) });
    assert.ok(long.statusCode < 500);
  });
});

describe('every answer', () => {
  test('carries X-Content-Type-Options: nosniff (success, refusals, 404, errors, preflight, docs, health)', async () => {
    const answers = await Promise.all([
      inject({ url: '/api/UserOne', headers: bearer(alice) }),
      inject({ url: '/api/UserOne' }),
      inject({ url: '/api/UserOne', headers: bearer(bobNoScope) }),
      inject({ url: '/api/nope', headers: bearer(alice) }),
      inject({ method: 'POST', url: '/api/notes', headers: { ...bearer(alice), 'content-type': 'application/json' }, payload: '{"text":' }),
      inject({ method: 'OPTIONS', url: '/api/UserOne', headers: { origin: 'http://localhost:4200', 'access-control-request-method': 'GET' } }),
      inject({ url: '/api/notes/%E0%A4%A' }),
      inject({ url: '/healthz' }),
      inject({ url: '/readyz' }),
      inject({ url: '/openapi.json' }),
      inject({ url: '/swagger' }),
    ]);
    for (const res of answers) assert.equal(res.headers['x-content-type-options'], 'nosniff', `${res.statusCode} ${res.headers['content-type']}`);
  });

  test('a URL that cannot be decoded is a 400 problem-details answer, with or without a token', async () => {
    for (const headers of [{}, bearer(alice)]) {
      const res = await inject({ url: '/api/notes/%E0%A4%A', headers });
      assert.equal(res.statusCode, 400);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.deepEqual(res.json(), { type: 'about:blank', title: 'Bad Request', status: 400, detail: 'The request URL is malformed.' });
    }
  });
});
