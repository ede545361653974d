// Signing keys: a flood of unknown kids costs a bounded number of JWKS fetches per cooldown, a kid
// just published is fetched at once, a new key is picked up without a restart, a key that leaves
// the JWKS takes its cached verifications with it, an IdP outage changes nothing for tokens signed
// by keys already held, and an API restarted while the IdP is down starts on the keys it kept.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { exportJWK } from 'jose';
import { JWKS_NEW_KID_REFETCHES_PER_COOLDOWN } from '../src/defaults.ts';
import { IssuerKeyCache } from '../src/issuer-key-cache.ts';
import { bearer, startApi, type TestApi } from './support/api.ts';
import { signRaw } from './support/raw-jws.ts';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

const INVALID = 'Bearer error="invalid_token", error_description="The access token is invalid."';

function readCache(dataDir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'issuer-keys.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Polls until `ready` holds (a positive event), never asserting on the passing of time. */
async function waitFor(ready: () => boolean | Promise<boolean>): Promise<void> {
  // A hang bound only: 10 s was short for real work on a busy machine.
  const deadline = Date.now() + 60_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error('condition not reached within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A clock the test moves by hand (milliseconds). */
function manualClock() {
  let t = Date.now();
  return { now: () => t, advance: (seconds: number) => { t += seconds * 1000; } };
}

let idp: TestIssuer | undefined;
let api: TestApi | undefined;
afterEach(async () => {
  await api?.dispose();
  await idp?.close();
  api = undefined;
  idp = undefined;
});

async function get(token: string) {
  return api!.app.inject({ url: '/api/UserOne', headers: bearer(token) });
}

describe('unknown kids', () => {
  test('a flood of unknown kids triggers at most one JWKS fetch per cooldown', async () => {
    idp = await startTestIssuer();
    const clock = manualClock();
    api = await startApi(idp, { AUTH_JWKS_COOLDOWN: '30' }, { now: clock.now });
    assert.equal(idp.jwksFetches, 1, 'the start-up fetch');
    const attacker = await idp.newKey('RS256', 'attacker');
    const forged = () => idp!.sign(undefined, { key: { ...attacker, kid: `kid-${randomUUID()}` } });

    clock.advance(31);
    const tokens = await Promise.all(Array.from({ length: 100 }, forged));
    const answers = await Promise.all(tokens.map(get));
    for (const res of answers) {
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers['www-authenticate'], INVALID);
    }
    assert.equal(idp.jwksFetches, 2, '100 concurrent unknown kids: one refetch');
    for (let i = 0; i < 20; i++) assert.equal((await get(await forged())).statusCode, 401);
    const bound = 2 + JWKS_NEW_KID_REFETCHES_PER_COOLDOWN;
    assert.equal(idp.jwksFetches, bound, `within the cooldown: at most ${JWKS_NEW_KID_REFETCHES_PER_COOLDOWN} more, for new kids`);
    clock.advance(31);
    for (let i = 0; i < 20; i++) assert.equal((await get(await forged())).statusCode, 401);
    assert.equal(idp.jwksFetches, bound + 1 + JWKS_NEW_KID_REFETCHES_PER_COOLDOWN, 'after the cooldown: the same bound again');
  });

  test('a kid just published is fetched at once, even right after another fetch; the same unknown kid is not', async () => {
    idp = await startTestIssuer();
    const clock = manualClock();
    api = await startApi(idp, { AUTH_JWKS_COOLDOWN: '30' }, { now: clock.now });
    clock.advance(31);
    const stray = await get(await idp.sign(undefined, { key: { ...idp.published[0]!, kid: 'stray' } }));
    assert.equal(stray.statusCode, 401);
    assert.equal(idp.jwksFetches, 2, 'a stray kid refetched (the cooldown had passed)');

    // One second later, within the cooldown, the IdP publishes and signs with a new key.
    clock.advance(1);
    const next = await idp.newKey('RS256', 'rsa-2');
    const early = await idp.sign(undefined, { key: next });
    assert.equal((await get(early)).statusCode, 401, 'not published yet: refused');
    assert.equal(idp.jwksFetches, 3, 'its kid made one refetch at once');
    assert.equal((await get(early)).statusCode, 401);
    assert.equal(idp.jwksFetches, 3, 'the same kid again: no second refetch within the cooldown');

    const other = await idp.newKey('RS256', 'rsa-3');
    idp.published.push(other);
    assert.equal((await get(await idp.sign(undefined, { key: other }))).statusCode, 200, 'a kid new to us, already published: accepted at once');
    assert.equal(idp.jwksFetches, 4);
  });
});

describe('rotation', () => {
  test('a new signing key is picked up without a restart', async () => {
    idp = await startTestIssuer();
    const clock = manualClock();
    api = await startApi(idp, { AUTH_JWKS_COOLDOWN: '10' }, { now: clock.now });
    const next = await idp.newKey('RS256', 'rsa-2');
    idp.published.push(next);
    clock.advance(11);
    const res = await get(await idp.sign(undefined, { key: next }));
    assert.equal(res.statusCode, 200);
    assert.equal(idp.jwksFetches, 2);
  });

  test('a rotated-out key: its tokens are refused, cached verifications included', async () => {
    idp = await startTestIssuer();
    const clock = manualClock();
    api = await startApi(idp, { AUTH_JWKS_COOLDOWN: '10' }, { now: clock.now });
    const old = idp.published[0]!;
    const oldToken = await idp.sign(undefined, { key: old });
    assert.equal((await get(oldToken)).statusCode, 200);
    assert.equal(api.tokenCache.size, 1, 'verified once, cached');

    const next = await idp.newKey('RS256', 'rsa-2');
    idp.published = [next];
    clock.advance(11);
    assert.equal((await get(await idp.sign(undefined, { key: next }))).statusCode, 200, 'the new key (refetch)');
    const res = await get(oldToken);
    assert.equal(res.statusCode, 401, 'the cached token of the retired key');
    assert.equal(res.headers['www-authenticate'], INVALID);
    assert.equal((await get(await idp.sign(undefined, { key: old }))).statusCode, 401, 'a fresh token of the retired key');
    assert.equal(api.tokenCache.size, 1, 'only the new key\'s token remains cached');
  });

  test('the JWKS is refreshed in the background once stale', async () => {
    idp = await startTestIssuer();
    const clock = manualClock();
    api = await startApi(idp, { AUTH_JWKS_MAX_AGE: '60' }, { now: clock.now });
    clock.advance(61);
    assert.equal((await get(await idp.sign())).statusCode, 200, 'stale keys still serve');
    await api.authority.jwks!.refresh(); // joins the background refresh
    assert.ok(idp.jwksFetches >= 2);
  });
});

describe('IdP outage', () => {
  test('tokens keep validating with the cached keys while the IdP is down', async () => {
    idp = await startTestIssuer();
    const clock = manualClock();
    api = await startApi(idp, { AUTH_JWKS_MAX_AGE: '60', AUTH_JWKS_COOLDOWN: '10' }, { now: clock.now });
    idp.down = true;
    clock.advance(3600);
    const token = await idp.sign(idp.claims({ iat: Math.floor(clock.now() / 1000), exp: Math.floor(clock.now() / 1000) + 300 }));
    assert.equal((await get(token)).statusCode, 200);
    await assert.rejects(api.authority.jwks!.refresh(), 'the refresh does fail');
    clock.advance(11);
    const unknown = await idp.sign(undefined, { key: { ...idp.published[0]!, kid: 'unknown' } });
    const res = await get(unknown);
    assert.equal(res.statusCode, 401, 'an unknown kid during the outage is just invalid');
    assert.equal((await get(await idp.sign(idp.claims({ exp: Math.floor(clock.now() / 1000) + 300, iat: Math.floor(clock.now() / 1000) })))).statusCode, 200, 'still serving');
    assert.equal((await api.app.inject({ url: '/readyz' })).statusCode, 200, 'still ready: keys are held');
    idp.down = false;
  });

  test('until metadata and keys are loaded: /readyz 503, tokens 503 with Retry-After (never 500)', async () => {
    idp = await startTestIssuer();
    idp.down = true;
    const { buildApi } = await import('../src/app.ts');
    const { readApiConfig } = await import('../src/config.ts');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
    const early = buildApi(readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir }), { logger: false });
    try {
      await early.app.ready();
      assert.equal((await early.app.inject({ url: '/healthz' })).statusCode, 200);
      assert.equal((await early.app.inject({ url: '/readyz' })).statusCode, 503);
      const res = await early.app.inject({ url: '/api/UserOne', headers: bearer(await idp.sign()) });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '5');
      assert.equal((await early.app.inject({ url: '/api/UserOne' })).statusCode, 401, 'no token is still 401');
      idp.down = false;
      await early.authority.start();
      assert.equal((await early.app.inject({ url: '/readyz' })).statusCode, 200);
      assert.equal((await early.app.inject({ url: '/api/UserOne', headers: bearer(await idp.sign()) })).statusCode, 200);
    } finally {
      await early.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a discovery document naming another issuer is never trusted', async () => {
    idp = await startTestIssuer();
    const { Authority } = await import('../src/authority.ts');
    let refused!: () => void;
    const refusedTwice = new Promise<void>((resolve) => { refused = resolve; });
    let refusals = 0;
    const wrong = new Authority({
      issuer: `${idp.issuer}/`, algorithms: ['RS256'], jwksMaxAgeMs: 60_000, jwksCooldownMs: 0,
      log: (_level, msg) => { if (msg.includes('is not') && ++refusals === 2) refused(); },
    });
    const loading = wrong.start();
    await refusedTwice; // the document was read, and refused, twice (a retry included)
    assert.equal(wrong.ready, false);
    assert.equal(idp.discoveryFetches, 2);
    assert.equal(idp.jwksFetches, 0, 'the jwks_uri of a document naming another issuer is never fetched');
    await wrong.stop();
    await loading;
  });
});

describe('keys kept across restarts', () => {
  test('an API restarted while the IdP is down starts on the keys it kept; /readyz says so; the IdP\'s keys return with it', async () => {
    idp = await startTestIssuer();
    const dataDir = mkdtempSync(join(tmpdir(), 'api-test-'));
    try {
      const first = await startApi(idp, {}, { dataDir });
      const token = await idp.sign();
      assert.equal((await first.app.inject({ url: '/api/UserOne', headers: bearer(token) })).statusCode, 200);
      await waitFor(() => readCache(dataDir) !== undefined);
      await first.dispose();

      idp.down = true;
      api = await startApi(idp, {}, { dataDir });
      const ready = await api.app.inject({ url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json().keys, 'cache');
      assert.match(ready.json().cachedAt, /^\d{4}-\d\d-\d\dT/);
      assert.equal((await get(token)).statusCode, 200, 'a token accepted before the restart');
      assert.equal((await get(await idp.sign())).statusCode, 200, 'a new token of the same key');

      idp.down = false;
      await waitFor(async () => (await api!.app.inject({ url: '/readyz' })).json().keys === 'issuer');
      assert.equal((await get(await idp.sign())).statusCode, 200);
    } finally {
      await api?.dispose();
      api = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a kept copy for another issuer, too old, or damaged is not used: 503 until the IdP answers', async () => {
    idp = await startTestIssuer();
    const dataDir = mkdtempSync(join(tmpdir(), 'api-test-'));
    const clock = manualClock();
    try {
      const first = await startApi(idp, {}, { dataDir, now: clock.now });
      await waitFor(() => readCache(dataDir) !== undefined);
      await first.dispose();
      const kept = readCache(dataDir)!;
      idp.down = true;
      const variants: Array<[string, string, Record<string, string>]> = [
        ['another issuer', JSON.stringify({ ...kept, issuer: 'http://127.0.0.1:1' }), {}],
        ['older than AUTH_JWKS_CACHE_MAX_AGE', JSON.stringify(kept), { AUTH_JWKS_CACHE_MAX_AGE: '60' }],
        ['damaged', JSON.stringify(kept).slice(0, 100), {}],
      ];
      clock.advance(61);
      for (const [why, content, env] of variants) {
        idp.requests = 0;
        writeFileSync(join(dataDir, 'issuer-keys.json'), content);
        const { buildApi } = await import('../src/app.ts');
        const { readApiConfig } = await import('../src/config.ts');
        const early = buildApi(readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dataDir, ...env }), { logger: false, now: clock.now });
        try {
          // A second attempt at the IdP: the first failed, and the copy was looked at in between.
          await waitFor(() => idp!.requests >= 2);
          assert.equal((await early.app.inject({ url: '/readyz' })).statusCode, 503, why);
          assert.equal((await early.app.inject({ url: '/api/UserOne', headers: bearer(await idp.sign()) })).statusCode, 503, why);
        } finally {
          await early.app.close();
        }
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

test('a copy of the keys that cannot be written (the disk full, its path taken) fails whole: no temporary file left behind', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'api-test-'));
  try {
    // The path taken by a directory: the rename fails after the temporary file was written.
    mkdirSync(join(dataDir, 'issuer-keys.json'));
    const cache = new IssuerKeyCache(join(dataDir, 'issuer-keys.json'), 60_000);
    for (let i = 0; i < 3; i++) await assert.rejects(cache.write('http://issuer.example', { issuer: 'http://issuer.example' }, { keys: [] }));
    assert.deepEqual(readdirSync(dataDir), ['issuer-keys.json']);
    assert.equal(cache.read('http://issuer.example'), undefined);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('verified-token cache', () => {
  test('a cached token is still refused once expired', async () => {
    idp = await startTestIssuer();
    const clock = manualClock();
    api = await startApi(idp, {}, { now: clock.now });
    const nowS = Math.floor(clock.now() / 1000);
    const token = await idp.sign(idp.claims({ iat: nowS, exp: nowS + 30 }));
    assert.equal((await get(token)).statusCode, 200);
    assert.equal((await get(token)).statusCode, 200);
    assert.equal(api.tokenCache.size, 1);
    clock.advance(40);
    const res = await get(token);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], INVALID);
    assert.equal(api.tokenCache.size, 0);
  });

  test('a cached principal is the principal of its token, and carries no token text a log could show', async () => {
    idp = await startTestIssuer();
    api = await startApi(idp);
    const token = await idp.sign(idp.claims({ sub: 'alice' }));
    assert.equal((await get(token)).statusCode, 200);
    const principal = api.tokenCache.get(token, Date.now(), 0);
    assert.ok(principal, 'cached');
    assert.equal(principal.subject, 'alice');
    assert.equal(principal.tokenKind, 'jwt');
    // A hit hands routes the cached principal (request.principal): the token text the cache keeps
    // for its comparison must not be reachable from it the ways a handler or a logger reads an object.
    const signature = token.split('.')[2]!;
    for (const view of [JSON.stringify(principal), inspect(principal, { showHidden: true, depth: 4 }), Reflect.ownKeys(principal).join(' '), Object.values(principal).map(String).join(' ')]) {
      assert.ok(!view.includes(signature), `token text visible: ${view.slice(0, 200)}`);
    }
  });

  test('bounded: least recently used entries go first', async () => {
    idp = await startTestIssuer();
    api = await startApi(idp, { AUTH_TOKEN_CACHE_SIZE: '2' });
    const [a, b, c] = await Promise.all([idp.sign(), idp.sign(), idp.sign()]);
    await get(a!);
    await get(b!);
    await get(a!); // a is now the most recent
    await get(c!); // evicts b
    assert.equal(api.tokenCache.size, 2);
    assert.ok(api.tokenCache.get(a!, Date.now(), 0));
    assert.equal(api.tokenCache.get(b!, Date.now(), 0), undefined);
  });

  test('disabled by AUTH_TOKEN_CACHE_SIZE=0: every token verified, nothing kept', async () => {
    idp = await startTestIssuer();
    api = await startApi(idp, { AUTH_TOKEN_CACHE_SIZE: '0' });
    const token = await idp.sign();
    for (let i = 0; i < 3; i++) assert.equal((await get(token)).statusCode, 200);
    assert.equal(api.tokenCache.size, 0);
  });
});

describe('tokens without kid', () => {
  test('accepted only when exactly one key fits the algorithm', async () => {
    idp = await startTestIssuer();
    api = await startApi(idp);
    assert.equal((await get(await idp.sign(undefined, { noKid: true }))).statusCode, 200, 'one RSA key');
    await api.dispose();
    idp.published.push(await idp.newKey('RS256', 'rsa-2'));
    api = await startApi(idp);
    assert.equal((await get(await idp.sign(undefined, { noKid: true }))).statusCode, 401, 'two RSA keys: ambiguous');
  });
});

describe('RSA key size', () => {
  test('an RSA key under 2048 bits in the JWKS is ignored: its tokens are refused', async () => {
    idp = await startTestIssuer();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    idp.published.push({ kid: 'rsa-1024', alg: 'RS256', privateKey: idp.published[0]!.privateKey, publicJwk: await exportJWK(publicKey) });
    api = await startApi(idp);
    const res = await get(signRaw({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1024' }, idp.claims(), privateKey));
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], INVALID);
    assert.equal((await get(await idp.sign())).statusCode, 200, 'the 2048-bit key of the same set still serves');
  });
});

describe('algorithms', () => {
  test('every algorithm on the allowlist verifies with its own key type; off the list it is refused', async () => {
    idp = await startTestIssuer();
    const algs = ['PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'];
    for (const alg of algs) idp.published.push(await idp.newKey(alg, `k-${alg}`));
    api = await startApi(idp, { AUTH_ALGORITHMS: ['RS256', ...algs].join(',') });
    for (const key of idp.published) {
      assert.equal((await get(await idp.sign(undefined, { key }))).statusCode, 200, key.alg);
    }
    await api.dispose();
    api = await startApi(idp); // RS256 only
    for (const key of idp.published.filter((k) => k.alg !== 'RS256')) {
      const res = await get(await idp.sign(undefined, { key }));
      assert.equal(res.statusCode, 401, key.alg);
      assert.equal(res.headers['www-authenticate'], INVALID);
    }
  });
});
