import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, importJWK } from 'jose';
import type { JWK } from 'oidc-provider';
import { generateSigningKey, loadSigningKeys, LocalSigningKey, rotateSigningKey } from '../src/signing-keys.ts';
import { openSqliteStore } from '../src/storage/sqlite-store.ts';
import { ManualClock } from '../../../tests/support/manual-clock.ts';

const now = () => Math.floor(Date.now() / 1000);

test('a retired key stays published through its grace period and is removed after it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-test-'));
  const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
  try {
    const active = generateSigningKey('RS256');
    const recent = { ...generateSigningKey('RS256'), retiredAt: now() - 100 };
    const old = { ...generateSigningKey('RS256'), retiredAt: now() - 1000 };
    for (const k of [old, recent, active]) await store.addSigningKey(k);
    const keys = await loadSigningKeys(store, 'RS256', 600);
    assert.deepEqual(keys.map((k) => k.kid), [active.kid, recent.kid], 'the active key first, the expired one gone');
    assert.deepEqual((await store.listSigningKeys()).map((k) => k.kid).sort(), [active.kid, recent.kid].sort());
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('switching the algorithm creates a key of the new kind that signs from then on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-test-'));
  const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
  try {
    const [rsa] = await loadSigningKeys(store, 'RS256', 600);
    const keys = await loadSigningKeys(store, 'ES256', 600);
    assert.deepEqual(keys.map((k) => k.alg), ['ES256', 'RS256']);
    assert.equal(keys[1]!.kid, rsa!.kid, 'the RSA key stays published, retired');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a first key made while the clock turns a second still signs (no start fails on the second boundary)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-test-'));
  // Every reading of this clock is one second after the last: the key is made after the time
  // loadSigningKeys started from.
  let ms = Date.UTC(2026, 0, 1);
  const ticking = { now: () => (ms += 1000), sleep: async () => {} };
  const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
  try {
    const keys = await loadSigningKeys(store, 'ES256', 600, ticking);
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.kid, (await store.listSigningKeys())[0]!.kid);
    const [es256] = keys;
    const switched = await loadSigningKeys(store, 'RS256', 600, ticking);
    assert.deepEqual(switched.map((k) => k.alg), ['RS256', 'ES256'], 'a change of algorithm likewise');
    assert.equal(switched[1]!.kid, es256!.kid);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a rotated-in key is published at once, signs only from its activation, and the old one leaves after its grace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-test-'));
  const clock = new ManualClock();
  const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0, clock });
  const kids = async () => (await loadSigningKeys(store, 'RS256', 600, clock)).map((k) => k.kid);
  try {
    const [first] = await kids();
    const next = await rotateSigningKey(store, 'RS256', 45, clock);
    assert.deepEqual(await kids(), [first, next.kid], 'published, the old key still signing');
    clock.advanceSeconds(44);
    assert.deepEqual(await kids(), [first, next.kid]);
    clock.advanceSeconds(1);
    assert.deepEqual(await kids(), [next.kid, first], 'from its activation on, the new key signs');
    clock.advanceSeconds(600);
    assert.deepEqual(await kids(), [next.kid, first], 'the old key stays published through its grace period');
    clock.advanceSeconds(1);
    assert.deepEqual(await kids(), [next.kid], 'and then leaves');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an urgent rotation cut short after its first write to the store (the CLI killed, the connection lost) still retires the old key: one write does both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keys-test-'));
  const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
  try {
    const [compromised] = await loadSigningKeys(store, 'RS256', 600);
    let writes = 0;
    const cutShort = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof name !== 'string' || typeof value !== 'function' || !/^(add|retire|delete)/.test(name)) return value;
        return async (...args: unknown[]) => {
          if (writes++ >= 1) throw new Error('the connection to the store was lost');
          return (value as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
    const next = await rotateSigningKey(cutShort, 'RS256', 0).catch(() => undefined);
    const stored = await store.listSigningKeys();
    assert.ok(next, 'the rotation went through in its one write');
    assert.deepEqual(stored.map((k) => [k.kid, k.retiredAt === null]), [[next.kid, true], [compromised!.kid, false]], 'the old key is retired');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const alg of ['RS256', 'ES256'] as const) {
  test(`a LocalSigningKey's ${alg} signature is a JWS signature of its published key, which holds no private member`, async () => {
    const stored = generateSigningKey(alg);
    const key = new LocalSigningKey({ ...stored.jwk, kid: stored.kid, alg, use: 'sig' } as JWK);
    const published = key.keyObject().export({ format: 'jwk' });
    assert.deepEqual(Object.keys(published).filter((m) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(m)), []);
    assert.equal(key.kid, stored.kid);
    assert.equal(key.alg, alg);
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${b64({ alg, kid: stored.kid })}.${b64({ sub: 'alice' })}`;
    const jws = `${input}.${Buffer.from(await key.sign(Buffer.from(input))).toString('base64url')}`;
    // jose accepts only the JWS form (ECDSA as r || s, not DER): a DER signature fails here.
    const { payload } = await compactVerify(jws, await importJWK({ ...published, alg }, alg));
    assert.equal(Buffer.from(payload).toString(), '{"sub":"alice"}');
    await assert.rejects(compactVerify(`${input}.${Buffer.from(await key.sign(Buffer.from(`${input}x`))).toString('base64url')}`, await importJWK({ ...published, alg }, alg)));
  });
}

test('a LocalSigningKey refuses an algorithm the IdP does not sign with', () => {
  const stored = generateSigningKey('RS256');
  assert.throws(() => new LocalSigningKey({ ...stored.jwk, kid: stored.kid, alg: 'PS256' } as JWK), /unsupported algorithm PS256/);
});
