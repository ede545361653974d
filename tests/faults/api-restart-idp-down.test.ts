// Fault: the API is restarted while the IdP is down. It starts on the issuer keys it kept in its
// data directory, so valid tokens keep getting 200 (no 503), /readyz says it runs on cached keys,
// and once the IdP is back the API takes the IdP's keys again. Real processes throughout.
// Quick by default; FAULTS_FULL=1 sends more calls, waits for the IdP's return (the API retries
// with a back-off of up to 10 s) and also shows the control (no kept copy: 503).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiProcess, type ApiProcess } from '../support/api-process.ts';
import { startIdp, type IdpProcess } from '../support/idp-process.ts';
import { login, rpConfig } from '../support/oidc-rp.ts';

const FULL = process.env['FAULTS_FULL'] === '1';
const CALLS = FULL ? 500 : 20;

let idp: IdpProcess;
let api: ApiProcess;
let alice: string;
let bob: string;

/** Polls until `ready` holds (a positive event); bounded, never asserts that time has passed. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms`);
}

const readiness = async (base: string) => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function callMany(base: string, token: string, count: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  for (let done = 0; done < count; done += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, count - done) }, () =>
      fetch(`${base}/api/UserOne`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)));
    for (const s of batch) statuses.set(s, (statuses.get(s) ?? 0) + 1);
  }
  return statuses;
}

before(async () => {
  idp = await startIdp();
  api = await startApiProcess(idp.issuer);
  await until('API ready on the IdP\'s keys', async () => ((await readiness(api.base)).body.keys === 'issuer' ? true : undefined));
  const spa = await rpConfig(idp.issuer, 'spa');
  alice = (await login(spa, 'alice', 'demo-alice')).tokens.access_token;
  bob = (await login(spa, 'bob', 'demo-bob')).tokens.access_token;
});

after(async () => {
  await api?.dispose();
  await idp?.dispose();
});

test('API restarted while the IdP is down: no 503 for valid tokens', async () => {
  assert.deepEqual([...(await callMany(api.base, alice, 5))], [[200, 5]], 'before the fault');
  await until('issuer keys kept on disk', async () => (existsSync(join(api.dataDir, 'issuer-keys.json')) ? true : undefined));

  await idp.stop('SIGKILL');
  await api.restart();
  const ready = await until('API ready again', async () => {
    const r = await readiness(api.base);
    return r.status === 200 ? r : undefined;
  });
  assert.equal(ready.body.keys, 'cache', '/readyz says it runs on cached keys');

  const statuses = await callMany(api.base, alice, CALLS);
  assert.deepEqual([...statuses], [[200, CALLS]], `alice's token after the restart: ${JSON.stringify([...statuses])}`);
  const bobStatus = await fetch(`${api.base}/api/UserOne`, { headers: { authorization: `Bearer ${bob}` } });
  assert.equal(bobStatus.status, 403, 'policies still apply: bob lacks the scope');

  if (!FULL) return;
  // The IdP comes back: the API takes the IdP's own keys again.
  await idp.restart();
  await until('API back on the IdP\'s keys', async () => ((await readiness(api.base)).body.keys === 'issuer' ? true : undefined));
  assert.deepEqual([...(await callMany(api.base, alice, 10))], [[200, 10]], 'after the IdP returned');
});

test('the control, with FAULTS_FULL=1: an API that keeps no copy answers 503 while the IdP is down', { skip: !FULL }, async () => {
  await idp.stop('SIGKILL');
  const bare = await startApiProcess(idp.issuer, { AUTH_JWKS_CACHE_MAX_AGE: '0' });
  try {
    await until('a failed attempt at the IdP', async () => (bare.logs.some((l) => l.includes('issuer not available')) ? true : undefined));
    assert.equal((await readiness(bare.base)).status, 503);
    const res = await fetch(`${bare.base}/api/UserOne`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(res.status, 503);
  } finally {
    await bare.dispose();
    await idp.restart();
  }
});
