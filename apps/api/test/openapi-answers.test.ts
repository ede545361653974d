// The OpenAPI document as a contract: every answer a route really gives (success, each refusal,
// each client error) is declared for that operation, under the media type it is sent in, with a
// schema its body matches, and every WWW-Authenticate or Retry-After it carries is declared too.
// A client generated from the document (or Swagger UI) then knows every answer it can get.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildApi } from '../src/app.ts';
import { readApiConfig } from '../src/config.ts';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, Declared> }>>; components: unknown };
type Declared = { content?: Record<string, { schema: unknown }>; headers?: Record<string, unknown> };

let idp: TestIssuer;
let api: TestApi;
let doc: Doc;

before(async () => {
  idp = await startTestIssuer();
  api = await startApi(idp);
  doc = (await api.app.inject({ url: '/openapi.json' })).json();
});
after(async () => {
  await api.dispose();
  await idp.close();
});

/** Validates a body against a schema of the document (its $refs resolved within it). */
function validatorFor(document: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi', components: document.components });
  return (schema: unknown, body: unknown): string | undefined => {
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
    const validate = ajv.compile(rebased);
    return validate(body) ? undefined : ajv.errorsText(validate.errors);
  };
}

/** Asserts that `res`, an answer of `method path`, is one the document declares. */
function assertDeclared(document: Doc, path: string, method: string, res: LightMyRequestResponse, what: string): void {
  const operation = document.paths[path]?.[method];
  assert.ok(operation, `${what}: ${method.toUpperCase()} ${path} is in the document`);
  const declared = operation.responses[String(res.statusCode)];
  assert.ok(declared, `${what}: status ${res.statusCode} declared (declared: ${Object.keys(operation.responses).join(', ')})`);
  for (const header of ['www-authenticate', 'retry-after']) {
    if (res.headers[header] === undefined) continue;
    const names = Object.keys(declared.headers ?? {}).map((h) => h.toLowerCase());
    assert.ok(names.includes(header), `${what}: its ${header} header is declared`);
  }
  if (res.body === '') {
    assert.equal(declared.content, undefined, `${what}: no body, none declared`);
    return;
  }
  const mediaType = String(res.headers['content-type']).split(';', 1)[0]!;
  const media = declared.content?.[mediaType];
  assert.ok(media, `${what}: sent as ${mediaType}, declared as ${Object.keys(declared.content ?? {}).join(', ') || 'nothing'}`);
  assert.equal(validatorFor(document)(media.schema, res.json()), undefined, `${what}: body matches the declared schema`);
}

test('every answer of every protected operation, refusals included, is declared with its media type, schema and headers', async () => {
  const alice = await idp.sign();
  const noScope = await idp.sign(idp.claims({ scope: 'openid' }));
  const otherClient = await idp.sign(idp.claims({ azp: 'other-spa', client_id: 'other-spa' }));
  const forged = await idp.sign(idp.claims({ aud: 'https://other-api' }));
  const note = (await api.app.inject({ method: 'POST', url: '/api/notes', headers: bearer(alice), payload: { text: 'mine' } })).json() as { id: string };

  const operations: Array<{ path: string; method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: unknown }> = [
    { path: '/api/UserOne', method: 'GET', url: '/api/UserOne' },
    { path: '/api/notes', method: 'GET', url: '/api/notes' },
    { path: '/api/notes', method: 'POST', url: '/api/notes', payload: { text: 'hello' } },
    { path: '/api/notes/{id}', method: 'DELETE', url: `/api/notes/${note.id}` },
  ];
  const refusals: Array<[string, (o: InjectOptions) => InjectOptions]> = [
    ['no token', (o) => o],
    ['an invalid token', (o) => ({ ...o, headers: { ...o.headers, ...bearer(forged) } })],
    ['a token in the header and the query', (o) => ({ ...o, url: `${o.url}?access_token=x`, headers: { ...o.headers, ...bearer(alice) } })],
    ['no scope', (o) => ({ ...o, headers: { ...o.headers, ...bearer(noScope) } })],
    ['a client not allowed', (o) => ({ ...o, headers: { ...o.headers, ...bearer(otherClient) } })],
  ];
  const seen = new Set<number>();
  for (const op of operations) {
    const base: InjectOptions = { method: op.method, url: op.url, ...(op.payload ? { payload: op.payload as object } : {}) };
    for (const [what, make] of refusals) {
      const res = await api.app.inject(make(base));
      seen.add(res.statusCode);
      assertDeclared(doc, op.path, op.method.toLowerCase(), res, `${op.method} ${op.path} with ${what}`);
    }
    const ok = await api.app.inject({ ...base, headers: bearer(alice) });
    assert.ok(ok.statusCode < 300, `${op.method} ${op.path} succeeds`);
    assertDeclared(doc, op.path, op.method.toLowerCase(), ok, `${op.method} ${op.path} succeeding`);
  }
  assert.deepEqual([...seen].sort(), [400, 401, 403], 'each kind of refusal was produced');

  // The route's own client errors.
  const own: Array<[string, string, InjectOptions]> = [
    ['/api/notes', 'post', { method: 'POST', url: '/api/notes', headers: bearer(alice), payload: { text: '' } }],
    ['/api/notes', 'post', { method: 'POST', url: '/api/notes', headers: { ...bearer(alice), 'content-type': 'application/xml' }, payload: '<text>hello</text>' }],
    ['/api/notes', 'post', { method: 'POST', url: '/api/notes', headers: { ...bearer(alice), 'content-type': 'application/json' }, payload: JSON.stringify({ text: 'x'.repeat(20_000) }) }],
    ['/api/notes/{id}', 'delete', { method: 'DELETE', url: '/api/notes/no-such-note', headers: bearer(alice) }],
    ['/api/notes/{id}', 'delete', { method: 'DELETE', url: `/api/notes/${'x'.repeat(65)}`, headers: bearer(alice) }],
  ];
  const statuses: number[] = [];
  for (const [path, method, opts] of own) {
    const res = await api.app.inject(opts);
    statuses.push(res.statusCode);
    assertDeclared(doc, path, method, res, `${method.toUpperCase()} ${opts.url} (${res.statusCode})`);
  }
  assert.deepEqual(statuses, [400, 415, 413, 404, 400]);
});

test('a token that cannot be checked now (introspection down) is a declared 503 with its Retry-After, on every protected operation', async () => {
  idp.down = true;
  try {
    for (const [path, method, url] of [['/api/UserOne', 'GET', '/api/UserOne'], ['/api/notes', 'GET', '/api/notes'], ['/api/notes', 'POST', '/api/notes'], ['/api/notes/{id}', 'DELETE', '/api/notes/n1']] as const) {
      const res = await api.app.inject({ method, url, headers: bearer(`opaque-${method}-${path}`.replace(/[^A-Za-z0-9-]/g, '-').padEnd(43, '0')), ...(method === 'POST' ? { payload: { text: 'x' } } : {}) });
      assert.equal(res.statusCode, 503, `${method} ${path}`);
      assertDeclared(doc, path, method.toLowerCase(), res, `${method} ${path} while introspection is down`);
    }
  } finally {
    idp.down = false;
  }
});

test('the public operations too: health, and readiness before the keys are loaded', async () => {
  assertDeclared(doc, '/healthz', 'get', await api.app.inject({ url: '/healthz' }), 'GET /healthz');
  assertDeclared(doc, '/readyz', 'get', await api.app.inject({ url: '/readyz' }), 'GET /readyz ready');
  idp.down = true;
  const unready = buildApi(readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: api.dataDir, AUTH_JWKS_CACHE_MAX_AGE: '0', API_LOG_LEVEL: 'silent' }), { logger: false });
  try {
    const res = await unready.app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assertDeclared(doc, '/readyz', 'get', res, 'GET /readyz not ready');
  } finally {
    idp.down = false;
    await unready.app.close();
  }
});

test('shared schemas keep their names in the document (generated clients name their types after them)', () => {
  const schemas = Object.keys((doc.components as { schemas: Record<string, unknown> }).schemas);
  assert.deepEqual(schemas.sort(), ['Note', 'Problem']);
  assert.deepEqual(doc.paths['/api/UserOne']!.get!.responses['401']!.content!['application/problem+json']!.schema, { $ref: '#/components/schemas/Problem' });
});
