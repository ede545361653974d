// Reference tokens: introspected as the api client, accepted only when active, an access token,
// and for our audience; results reused within a short bound; a refresh token is never a bearer.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { AUDIENCE, SCOPE, startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

const INVALID = 'Bearer error="invalid_token", error_description="The access token is invalid."';

let idp: TestIssuer | undefined;
let api: TestApi | undefined;
afterEach(async () => {
  await api?.dispose();
  await idp?.close();
  api = undefined;
  idp = undefined;
});

function active(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { active: true, sub: 'alice', client_id: 'spa', aud: AUDIENCE, scope: SCOPE, token_type: 'Bearer', iss: idp!.issuer, iat: now, exp: now + 300, ...extra };
}

async function get(token: string) {
  return api!.app.inject({ url: '/api/UserOne', headers: bearer(token) });
}

async function setup(env: Record<string, string> = {}, now?: () => number) {
  idp = await startTestIssuer();
  api = await startApi(idp, env, now);
}

test('an active reference access token for our audience passes (auto and reference formats)', async () => {
  for (const format of ['auto', 'reference']) {
    await setup({ AUTH_TOKEN_FORMAT: format });
    idp!.references.set('opaque-alice-1', active());
    const res = await get('opaque-alice-1');
    assert.equal(res.statusCode, 200, format);
    assert.deepEqual(res.json(), ['user one data']);
    await api!.dispose();
    await idp!.close();
    api = undefined;
    idp = undefined;
  }
});

test('a refresh token sent as bearer is refused', async () => {
  await setup();
  // oidc-provider answers a refresh token with no token_type; other servers say refresh_token.
  idp!.references.set('refresh-1', active({ token_type: undefined }));
  idp!.references.set('refresh-2', active({ token_type: 'refresh_token' }));
  for (const t of ['refresh-1', 'refresh-2']) {
    const res = await get(t);
    assert.equal(res.statusCode, 401, t);
    assert.equal(res.headers['www-authenticate'], INVALID);
  }
});

test('inactive, unknown, wrong audience, wrong issuer, expired, sender-constrained: all invalid', async () => {
  await setup();
  const now = Math.floor(Date.now() / 1000);
  const cases: Record<string, Record<string, unknown>> = {
    inactive: { active: false },
    'active-as-string': active({ active: 'true' }),
    'other-audience': active({ aud: 'https://other-api' }),
    'no-audience': active({ aud: undefined }),
    'other-issuer': active({ iss: `${idp!.issuer}/` }),
    expired: active({ exp: now - 60 }),
    'no-exp': active({ exp: undefined }),
    'no-sub': active({ sub: undefined }),
    'dpop-bound': active({ cnf: { jkt: 'abc' } }),
    'scope-array': active({ scope: [SCOPE] }),
  };
  for (const [token, answer] of Object.entries(cases)) idp!.references.set(token, answer);
  for (const token of [...Object.keys(cases), 'never-issued']) {
    const res = await get(token);
    assert.equal(res.statusCode, 401, token);
    assert.equal(res.headers['www-authenticate'], INVALID, token);
  }
});

test('the policy applies to reference tokens too: missing scope 403, wrong client 403', async () => {
  await setup();
  idp!.references.set('no-scope', active({ scope: undefined }));
  idp!.references.set('swagger-client', active({ client_id: 'swagger' }));
  const a = await get('no-scope');
  assert.equal(a.statusCode, 403);
  assert.match(String(a.headers['www-authenticate']), /insufficient_scope/);
  const b = await get('swagger-client');
  assert.equal(b.statusCode, 403);
  assert.equal(b.headers['www-authenticate'], undefined);
});

test('results are cached within the bound, then asked again (revocation shows up)', async () => {
  let t = Date.now();
  await setup({ AUTH_INTROSPECTION_CACHE_TTL: '30' }, () => t);
  idp!.references.set('opaque-2', active());
  assert.equal((await get('opaque-2')).statusCode, 200);
  assert.equal((await get('opaque-2')).statusCode, 200);
  assert.equal(idp!.introspectionCalls, 1, 'second use served from the cache');
  idp!.references.set('opaque-2', { active: false }); // revoked at the IdP
  t += 31_000;
  assert.equal((await get('opaque-2')).statusCode, 401, 'after the bound the revocation is seen');
  assert.equal(idp!.introspectionCalls, 2);
});

test('a cached result never outlives the token\'s exp', async () => {
  let t = Date.now();
  await setup({ AUTH_INTROSPECTION_CACHE_TTL: '600' }, () => t);
  idp!.references.set('short', active({ exp: Math.floor(t / 1000) + 10 }));
  assert.equal((await get('short')).statusCode, 200);
  t += 20_000;
  assert.equal((await get('short')).statusCode, 401);
});

test('concurrent uses of one token share one introspection', async () => {
  await setup();
  idp!.references.set('shared', active());
  const answers = await Promise.all(Array.from({ length: 20 }, () => get('shared')));
  assert.ok(answers.every((r) => r.statusCode === 200));
  assert.equal(idp!.introspectionCalls, 1);
});

test('the api client authenticates with its secret; a wrong secret never yields access', async () => {
  idp = await startTestIssuer();
  api = await startApi(idp, { API_CLIENT_SECRET: 'wrong-secret' });
  idp.references.set('opaque-3', active());
  const res = await get('opaque-3');
  assert.equal(res.statusCode, 503, 'the IdP refused us: our fault, not the caller\'s');
  assert.equal(res.headers['www-authenticate'], undefined);
});

test('IdP down during introspection: 503 with Retry-After, not 401 and not 500', async () => {
  await setup();
  idp!.references.set('opaque-4', active());
  idp!.down = true;
  const res = await get('opaque-4');
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['retry-after'], '5');
  idp!.down = false;
  assert.equal((await get('opaque-4')).statusCode, 200, 'failures are not cached');
});

test('jwt format never introspects; an issuer without introspection makes opaque tokens invalid', async () => {
  await setup({ AUTH_TOKEN_FORMAT: 'jwt' });
  idp!.references.set('opaque-5', active());
  assert.equal((await get('opaque-5')).statusCode, 401);
  assert.equal(idp!.introspectionCalls, 0);
  await api!.dispose();
  await idp!.close();
  idp = await startTestIssuer({ withIntrospection: false });
  api = await startApi(idp);
  const res = await get('opaque-6');
  assert.equal(res.statusCode, 401);
  assert.equal(res.headers['www-authenticate'], INVALID);
});
