import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, loadSigningKeys, rotateSigningKey } from '../src/signing-keys.ts';
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
