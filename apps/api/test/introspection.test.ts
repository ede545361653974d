// Reference tokens: introspected as the api client, accepted only when active, an access token,
// and for our audience; results reused within a short bound; a refresh token is never a bearer.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApi, loggerOptions } from '../src/app.ts';
import { readApiConfig } from '../src/config.ts';
import { INTROSPECTION_BREAKER_OPEN_SECONDS } from '../src/defaults.ts';
import type { RefusalReason } from '../src/refusal-reason.ts';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { AUDIENCE, SCOPE, startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

const INVALID = 'Bearer error="invalid_token", error_description="The access token is invalid."';

let idp: TestIssuer | undefined;
let api: TestApi | undefined;
const reasons: RefusalReason[] = [];
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
  api = await startApi(idp, env, { onRefusal: (reason) => reasons.push(reason), ...(now ? { now } : {}) });
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

test('inactive, unknown, wrong audience, wrong issuer, expired, sender-constrained: all invalid, each for its reason', async () => {
  await setup();
  const now = Math.floor(Date.now() / 1000);
  // The same claim rules as the JWT path (one validator): future iat, azp against client_id,
  // non-string aud entries are judged alike.
  const cases: Record<string, [Record<string, unknown>, RefusalReason]> = {
    inactive: [{ active: false }, 'token_inactive'],
    'active-as-string': [active({ active: 'true' }), 'token_inactive'],
    'other-audience': [active({ aud: 'https://other-api' }), 'audience_mismatch'],
    'no-audience': [active({ aud: undefined }), 'audience_mismatch'],
    'aud-with-a-number': [active({ aud: [AUDIENCE, 42] }), 'audience_mismatch'],
    'other-issuer': [active({ iss: `${idp!.issuer}/` }), 'issuer_mismatch'],
    expired: [active({ exp: now - 60 }), 'expired'],
    'no-exp': [active({ exp: undefined }), 'exp_missing'],
    'iat-in-the-future': [active({ iat: now + 60 }), 'issued_in_future'],
    'nbf-in-the-future': [active({ nbf: now + 60 }), 'not_yet_valid'],
    'no-sub': [active({ sub: undefined }), 'claim_missing'],
    'azp-not-client_id': [active({ azp: 'evil' }), 'client_mismatch'],
    'dpop-bound': [active({ cnf: { jkt: 'abc' } }), 'sender_constrained'],
    'scope-array': [active({ scope: [SCOPE] }), 'claim_malformed'],
    'never-issued': [{ active: false }, 'token_inactive'],
  };
  for (const [token, [answer]] of Object.entries(cases)) if (token !== 'never-issued') idp!.references.set(token, answer);
  for (const [token, [, reason]] of Object.entries(cases)) {
    reasons.length = 0;
    const res = await get(token);
    assert.equal(res.statusCode, 401, token);
    assert.equal(res.headers['www-authenticate'], INVALID, token);
    assert.deepEqual(reasons, [reason], token);
  }
});

test('the same answer with azp equal to client_id, aud an array with userinfo, iat now: accepted', async () => {
  await setup();
  idp!.references.set('auth0-shaped', active({ azp: 'spa', aud: [AUDIENCE, `${idp!.issuer}/userinfo`] }));
  assert.equal((await get('auth0-shaped')).statusCode, 200);
});

test('the policy applies to reference tokens too: missing scope 403, wrong client 403', async () => {
  await setup();
  idp!.references.set('no-scope', active({ scope: undefined }));
  idp!.references.set('other-client', active({ client_id: 'other-spa' }));
  const a = await get('no-scope');
  assert.equal(a.statusCode, 403);
  assert.match(String(a.headers['www-authenticate']), /insufficient_scope/);
  const b = await get('other-client');
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

test('IdP down during introspection: 503 with Retry-After, not 401 and not 500; the breaker then spares the IdP', async () => {
  let t = Date.now();
  await setup({}, () => t);
  idp!.references.set('opaque-4', active());
  idp!.references.set('opaque-cached', active());
  assert.equal((await get('opaque-cached')).statusCode, 200);
  idp!.down = true;
  const res = await get('opaque-4');
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['retry-after'], String(INTROSPECTION_BREAKER_OPEN_SECONDS));
  const callsAfterFailure = idp!.requests;

  // While the breaker is open: every uncached token 503 at once, and the IdP is not asked.
  const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => get(`random-${i}`)));
  assert.ok(flood.every((r) => r.statusCode === 503 && Number(r.headers['retry-after']) >= 1));
  assert.equal(idp!.requests, callsAfterFailure, 'no introspection while the breaker is open');
  assert.equal((await get('opaque-cached')).statusCode, 200, 'a cached answer still serves');
  assert.ok(api!.introspector.cacheSize <= 2, 'failures leave nothing behind per token');

  // Once the window has passed, one call probes; still down: open again.
  t += INTROSPECTION_BREAKER_OPEN_SECONDS * 1000;
  assert.equal((await get('opaque-4')).statusCode, 503);
  assert.equal(idp!.requests, callsAfterFailure + 1, 'one probe');
  assert.equal((await get('opaque-4')).statusCode, 503);
  assert.equal(idp!.requests, callsAfterFailure + 1, 'open again after a failed probe');

  idp!.down = false;
  t += INTROSPECTION_BREAKER_OPEN_SECONDS * 1000;
  assert.equal((await get('opaque-4')).statusCode, 200, 'the IdP is back: the probe closes the breaker');
  assert.equal(api!.introspector.breakerOpen, false);
  idp!.references.set('opaque-5', active());
  assert.equal((await get('opaque-5')).statusCode, 200);
});

test('an introspection outage is logged once, with its cause and never a token, and so is its end', async () => {
  let t = Date.now();
  idp = await startTestIssuer();
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  const dataDir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const config = readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dataDir, API_CLIENT_ID: 'api', API_CLIENT_SECRET: idp.clientCredentials.secret, API_REFUSAL_LOG_LINES: '0' });
  const built = buildApi(config, { logger: { ...(loggerOptions('info') as object), stream }, now: () => t });
  api = { ...built, dataDir, dispose: async () => { await built.app.close(); rmSync(dataDir, { recursive: true, force: true }); } };
  await api.app.ready();
  await api.authority.start();
  const outage = () => lines.filter((l) => String(l.msg).startsWith('introspection'));

  // The IdP no longer accepts our secret (rotated there, not here): an outage caused by us.
  idp.clientCredentials = { id: 'api', secret: 'rotated-at-the-idp' };
  idp.references.set('opaque-ok', active());
  assert.equal((await get('opaque-ok')).statusCode, 503);
  assert.equal(outage().length, 1);
  assert.equal(outage()[0]!.level, 'warn');
  assert.match(String(outage()[0]!.msg), /introspection failed \(.*\/introspect: HTTP 401\)/);
  await Promise.all(Array.from({ length: 20 }, (_, i) => get(`opaque-flood-${i}`)));
  t += INTROSPECTION_BREAKER_OPEN_SECONDS * 1000;
  assert.equal((await get('opaque-ok')).statusCode, 503, 'the probe fails too');
  assert.equal(outage().length, 1, 'one line for the whole outage');

  idp.clientCredentials = { id: 'api', secret: config.API_CLIENT_SECRET };
  t += INTROSPECTION_BREAKER_OPEN_SECONDS * 1000;
  assert.equal((await get('opaque-ok')).statusCode, 200);
  assert.deepEqual(outage().slice(1).map((l) => [l.level, l.msg]), [['info', 'introspection answers again']]);
  const all = JSON.stringify(lines);
  for (const secret of ['opaque-ok', 'opaque-flood', 'rotated-at-the-idp', config.API_CLIENT_SECRET]) assert.ok(!all.includes(secret), `${secret} is in the log`);
});

test('the introspection cache is bounded, and keyed by a digest (tokens are not kept)', async () => {
  await setup();
  const { INTROSPECTION_CACHE_SIZE } = await import('../src/defaults.ts');
  for (let i = 0; i < 300; i++) assert.equal((await get(`unknown-${i}`)).statusCode, 401);
  assert.equal(api!.introspector.cacheSize, 300);
  assert.ok(INTROSPECTION_CACHE_SIZE >= 300);
  const held = JSON.stringify([...(api!.introspector as unknown as { cache: Map<string, unknown> }).cache.keys()]);
  assert.ok(!held.includes('unknown-'), 'a token text is held in memory');
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
