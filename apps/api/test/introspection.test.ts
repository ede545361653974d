// Reference tokens: introspected as the api client, accepted only when active, an access token,
// and for our audience; results reused within a short bound; a refresh token is never a bearer.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildApi, loggerOptions } from '../src/app.ts';
import type { Authority } from '../src/authority.ts';
import { readApiConfig } from '../src/config.ts';
import {
  INTROSPECTION_BREAKER_OPEN_SECONDS, INTROSPECTION_MAX_IN_FLIGHT, INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN, INTROSPECTION_NEGATIVE_CACHE_SIZE, REFERENCE_TOKEN_MIN_LENGTH,
} from '../src/defaults.ts';
import { Introspector } from '../src/introspection.ts';
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

/** A reference token named `name`, of the embedded IdP's length (43 characters). */
const ref = (name: string) => name.padEnd(43, '_');

/** The introspection answer the IdP gives for the token named `name`. */
function answer(name: string, body: Record<string, unknown>): void {
  idp!.references.set(ref(name), body);
}

async function get(name: string) {
  return api!.app.inject({ url: '/api/UserOne', headers: bearer(ref(name)) });
}

async function setup(env: Record<string, string> = {}, now?: () => number) {
  idp = await startTestIssuer();
  api = await startApi(idp, env, { onRefusal: (reason) => reasons.push(reason), ...(now ? { now } : {}) });
}

test('an active reference access token for our audience passes (auto and reference formats)', async () => {
  for (const format of ['auto', 'reference']) {
    await setup({ AUTH_TOKEN_FORMAT: format });
    answer('opaque-alice-1', active());
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
  answer('refresh-1', active({ token_type: undefined }));
  answer('refresh-2', active({ token_type: 'refresh_token' }));
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
  for (const [token, [body]] of Object.entries(cases)) if (token !== 'never-issued') answer(token, body);
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
  answer('auth0-shaped', active({ azp: 'spa', aud: [AUDIENCE, `${idp!.issuer}/userinfo`] }));
  assert.equal((await get('auth0-shaped')).statusCode, 200);
});

test('the policy applies to reference tokens too: missing scope 403, wrong client 403', async () => {
  await setup();
  answer('no-scope', active({ scope: undefined }));
  answer('other-client', active({ client_id: 'other-spa' }));
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
  answer('opaque-2', active());
  assert.equal((await get('opaque-2')).statusCode, 200);
  assert.equal((await get('opaque-2')).statusCode, 200);
  assert.equal(idp!.introspectionCalls, 1, 'second use served from the cache');
  answer('opaque-2', { active: false }); // revoked at the IdP
  t += 31_000;
  assert.equal((await get('opaque-2')).statusCode, 401, 'after the bound the revocation is seen');
  assert.equal(idp!.introspectionCalls, 2);
});

test('a cached result never outlives the token\'s exp', async () => {
  let t = Date.now();
  await setup({ AUTH_INTROSPECTION_CACHE_TTL: '600' }, () => t);
  answer('short', active({ exp: Math.floor(t / 1000) + 10 }));
  assert.equal((await get('short')).statusCode, 200);
  t += 20_000;
  assert.equal((await get('short')).statusCode, 401);
});

test('concurrent uses of one token share one introspection', async () => {
  await setup();
  answer('shared', active());
  const answers = await Promise.all(Array.from({ length: 20 }, () => get('shared')));
  assert.ok(answers.every((r) => r.statusCode === 200));
  assert.equal(idp!.introspectionCalls, 1);
});

test('the api client authenticates with its secret; a wrong secret never yields access', async () => {
  idp = await startTestIssuer();
  api = await startApi(idp, { API_CLIENT_SECRET: 'wrong-secret' });
  answer('opaque-3', active());
  const res = await get('opaque-3');
  assert.equal(res.statusCode, 503, 'the IdP refused us: our fault, not the caller\'s');
  assert.equal(res.headers['www-authenticate'], undefined);
});

test('IdP down during introspection: 503 with Retry-After, not 401 and not 500; the breaker then spares the IdP', async () => {
  let t = Date.now();
  await setup({}, () => t);
  answer('opaque-4', active());
  answer('opaque-cached', active());
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
  answer('opaque-5', active());
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
  answer('opaque-ok', active());
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
  for (let i = 0; i < 300; i++) assert.equal((await get(`unknown-${i}`)).statusCode, 401);
  assert.equal(api!.introspector.cacheSize, 300);
  assert.ok(INTROSPECTION_NEGATIVE_CACHE_SIZE >= 300);
  const maps = api!.introspector as unknown as { active: Map<string, unknown>; refused: Map<string, unknown> };
  const held = JSON.stringify([...maps.active.keys(), ...maps.refused.keys()]);
  assert.ok(!held.includes('unknown-'), 'a token text is held in memory');
});

test('refusals, however many, never push an active result out of the cache (decision 0057)', async () => {
  idp = await startTestIssuer();
  // The class itself, with bounds of four entries each (the app's are 10,000).
  const authority = { metadata: { introspection_endpoint: `${idp.url}/introspect` } } as unknown as Authority;
  const introspector = new Introspector({
    issuer: idp.issuer, audience: AUDIENCE, clockToleranceSeconds: 5, clientId: 'api', clientSecret: idp.clientCredentials.secret,
    cacheTtlSeconds: 30, activeCacheSize: 4, refusedCacheSize: 4,
  }, authority);
  answer('signed-in', active());
  assert.equal((await introspector.introspect(ref('signed-in'))).subject, 'alice');
  for (let i = 0; i < 20; i++) await assert.rejects(async () => introspector.introspect(ref(`made-up-${i}`)), /invalid/);
  assert.equal(idp.introspectionCalls, 21);
  assert.equal((await introspector.introspect(ref('signed-in'))).subject, 'alice');
  assert.equal(idp.introspectionCalls, 21, 'still answered from the cache');
  assert.equal(introspector.cacheSize, 5, 'one active, the four newest refusals');
});

test('what cannot be a reference token is refused as malformed before any call (decision 0057)', async () => {
  await setup();
  reasons.length = 0;
  // What a confused client sends, text that is no RFC 6750 b64token, and tokens too short to carry
  // the 128 bits RFC 6749 requires: none costs a call to the IdP.
  const cannot = ['null', 'undefined', 'true', '0', 'x'.repeat(REFERENCE_TOKEN_MIN_LENGTH - 1), '====', `a=b${'c'.repeat(40)}`, `${'d'.repeat(40)}%20`];
  for (const token of cannot) {
    const res = await api!.app.inject({ url: '/api/UserOne', headers: bearer(token) });
    assert.equal(res.statusCode, 401, token);
    assert.equal(res.headers['www-authenticate'], INVALID, token);
  }
  assert.deepEqual(reasons, cannot.map(() => 'token_malformed'));
  assert.equal(idp!.introspectionCalls, 0, 'no introspection for any of them');
  // From the shortest length on, the IdP is asked (and knows none of these).
  reasons.length = 0;
  for (const token of ['x'.repeat(REFERENCE_TOKEN_MIN_LENGTH), 'y'.repeat(43)]) {
    assert.equal((await api!.app.inject({ url: '/api/UserOne', headers: bearer(token) })).statusCode, 401, token);
  }
  assert.deepEqual(reasons, ['token_inactive', 'token_inactive']);
  assert.equal(idp!.introspectionCalls, 2);
});

test('a flood of made-up tokens cannot take the introspection slots a token known active needs (decision 0057)', async () => {
  let t = Date.now();
  await setup({ AUTH_INTROSPECTION_CACHE_TTL: '30' }, () => t);
  answer('signed-in', active({ exp: Math.floor(t / 1000) + 300 }));
  assert.equal((await get('signed-in')).statusCode, 200);
  t += 31_000; // past the reuse bound: its next use asks the IdP again
  let release!: () => void;
  idp!.introspectionGate = new Promise<void>((resolve) => { release = resolve; });
  reasons.length = 0;
  const flood = Array.from({ length: INTROSPECTION_MAX_IN_FLIGHT }, (_, i) => get(`made-up-${i}`));
  // Every token of the flood has been judged: its call reached the IdP, which holds it, or it was refused.
  const overloadedSoFar = () => reasons.filter((r) => r === 'introspection_overloaded').length;
  while (idp!.introspectionCalls - 1 + overloadedSoFar() < INTROSPECTION_MAX_IN_FLIGHT) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(api!.introspector.inFlight, INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN);
  assert.equal(overloadedSoFar(), INTROSPECTION_MAX_IN_FLIGHT - INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN, 'the rest refused at once');
  // Another token never seen active waits for nothing either: 503 at once.
  const another = await get('made-up-one-more');
  assert.equal(another.statusCode, 503);
  assert.ok(Number(another.headers['retry-after']) >= 1);
  // The signed-in user's token is checked again in a slot the flood could not take.
  const again = get('signed-in');
  while (idp!.introspectionCalls < 2 + INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN) await new Promise((resolve) => setImmediate(resolve));
  idp!.introspectionGate = undefined;
  release();
  assert.equal((await again).statusCode, 200);
  const statuses = (await Promise.all(flood)).map((r) => r.statusCode);
  assert.equal(statuses.filter((s) => s === 401).length, INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN);
  assert.equal(statuses.filter((s) => s === 503).length, INTROSPECTION_MAX_IN_FLIGHT - INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN);
  assert.equal(api!.introspector.inFlight, 0);
});

test('jwt format never introspects; an issuer without introspection makes opaque tokens invalid', async () => {
  await setup({ AUTH_TOKEN_FORMAT: 'jwt' });
  answer('opaque-5', active());
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
