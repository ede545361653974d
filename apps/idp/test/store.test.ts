// The store contract, run against both implementations: SQLite (default) and Redis (scale-out).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/storage/sqlite-store.ts';
import { openRedisStore } from '../src/storage/redis-store.ts';
import { INSTANCE_CLOCK_SKEW_SECONDS } from '../src/defaults.ts';
import { loadSigningKeys } from '../src/signing-keys.ts';
import { createAdapterFactory } from '../src/storage/oidc-adapter.ts';
import { ReplayDetected } from '../src/storage/replay-detected.ts';
import type { Store } from '../src/storage/store.ts';
import { ManualClock } from '../../../tests/support/manual-clock.ts';
import { startRedis, type RedisProcess } from '../../../tests/support/redis-process.ts';

const implementations: Array<{ name: string; open: (clock: ManualClock) => Promise<{ store: Store; done: () => Promise<void> }> }> = [
  {
    name: 'sqlite',
    open: async (clock) => {
      const dir = mkdtempSync(join(tmpdir(), 'store-test-'));
      const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0, clock });
      return { store, done: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  },
  {
    name: 'redis',
    open: async (clock) => {
      const redis: RedisProcess = await startRedis();
      const store = await openRedisStore(redis.url, { clock });
      return { store, done: async () => { await store.close(); await redis.stop(); } };
    },
  },
];

for (const impl of implementations) {
  describe(`${impl.name} store`, () => {
    let store: Store;
    let done: () => Promise<void>;
    const clock = new ManualClock();
    before(async () => ({ store, done } = await impl.open(clock)));
    after(async () => done());

    test('upsert and find round-trip a payload; find by uid', async () => {
      await store.upsert('Session', 's1', { uid: 'u1', accountId: 'alice' }, 60);
      assert.deepEqual(await store.find('Session', 's1'), { uid: 'u1', accountId: 'alice' });
      assert.deepEqual(await store.findByUid('Session', 'u1'), { uid: 'u1', accountId: 'alice' });
      assert.equal(await store.find('Session', 'missing'), undefined);
    });

    test('an artifact past its expiry is not found', async () => {
      await store.upsert('AuthorizationCode', 'short', { grantId: 'g0' }, 60);
      clock.advanceSeconds(59);
      assert.ok(await store.find('AuthorizationCode', 'short'));
      clock.advanceSeconds(1);
      assert.equal(await store.find('AuthorizationCode', 'short'), undefined);
    });

    test('of many parallel consumptions exactly one succeeds', async () => {
      await store.upsert('RefreshToken', 'rt1', { grantId: 'g1' }, 60);
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.consume('RefreshToken', 'rt1')));
      assert.equal(outcomes.filter((o) => o === 'consumed').length, 1);
      assert.equal(outcomes.filter((o) => o === 'already-consumed').length, 19);
      assert.ok((await store.find('RefreshToken', 'rt1'))?.['consumed']);
      assert.equal(await store.consume('RefreshToken', 'nope'), 'not-found');
    });

    test('consuming a destroyed artifact reports not-found and never brings it back', async () => {
      await store.upsert('RefreshToken', 'rt-gone', { grantId: 'g9' }, 60);
      await store.destroy('RefreshToken', 'rt-gone');
      assert.equal(await store.consume('RefreshToken', 'rt-gone'), 'not-found');
      assert.equal(await store.consume('RefreshToken', 'rt-gone'), 'not-found');
      assert.equal(await store.find('RefreshToken', 'rt-gone'), undefined);
    });

    test('revoking a grant deletes every artifact issued under it and the grant, nothing else', async () => {
      await store.upsert('Grant', 'g2', { accountId: 'alice' }, 60);
      await store.upsert('RefreshToken', 'rt2', { grantId: 'g2' }, 60);
      await store.upsert('AccessToken', 'at2', { grantId: 'g2' }, 60);
      await store.upsert('RefreshToken', 'rt3', { grantId: 'g3' }, 60);
      await store.revokeGrant('g2');
      assert.equal(await store.find('Grant', 'g2'), undefined);
      assert.equal(await store.find('RefreshToken', 'rt2'), undefined);
      assert.equal(await store.find('AccessToken', 'at2'), undefined);
      assert.ok(await store.find('RefreshToken', 'rt3'));
    });

    test('the oidc-provider adapter turns a lost consumption race into a grant revocation', async () => {
      const replays: Array<[string, string | undefined]> = [];
      const Adapter = createAdapterFactory(store, (model, grantId) => replays.push([model, grantId]));
      const codes = Adapter('AuthorizationCode');
      await store.upsert('Grant', 'g4', { accountId: 'alice' }, 60);
      await codes.upsert('c4', { grantId: 'g4' } as never, 60);
      await store.upsert('RefreshToken', 'rt4', { grantId: 'g4' }, 60);
      const results = await Promise.allSettled([codes.consume('c4'), codes.consume('c4'), codes.consume('c4')]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      assert.equal(rejected.length, 2);
      for (const r of rejected) {
        assert.ok(r.reason instanceof ReplayDetected);
        assert.deepEqual([r.reason.error, r.reason.model, r.reason.grantId], ['invalid_grant', 'AuthorizationCode', 'g4']);
      }
      assert.deepEqual(replays[0], ['AuthorizationCode', 'g4']);
      assert.equal(await store.find('RefreshToken', 'rt4'), undefined, 'tokens of the replayed grant are gone');
    });

    test('signing keys: add, retire all but one, delete', async () => {
      await store.addSigningKey({ kid: 'k1', alg: 'RS256', jwk: { kty: 'RSA' }, createdAt: 100, activatesAt: 100, retiredAt: null });
      await store.addSigningKey({ kid: 'k2', alg: 'RS256', jwk: { kty: 'RSA' }, createdAt: 200, activatesAt: 300, retiredAt: null });
      await store.retireSigningKeysExcept('k2', 300);
      const keys = await store.listSigningKeys();
      assert.deepEqual(keys.map((k) => [k.kid, k.activatesAt, k.retiredAt]), [['k2', 300, null], ['k1', 100, 300]]);
      await store.deleteSigningKey('k1');
      assert.deepEqual((await store.listSigningKeys()).map((k) => k.kid), ['k2']);
    });

    test('signing keys: an urgent rotation brings a later retirement forward, never pushes one back', async () => {
      await store.addSigningKey({ kid: 'u1', alg: 'ES256', jwk: { kty: 'EC' }, createdAt: 100, activatesAt: 100, retiredAt: 5000 });
      await store.addSigningKey({ kid: 'u2', alg: 'ES256', jwk: { kty: 'EC' }, createdAt: 100, activatesAt: 100, retiredAt: 150 });
      await store.addSigningKey({ kid: 'u3', alg: 'ES256', jwk: { kty: 'EC' }, createdAt: 200, activatesAt: 200, retiredAt: null });
      await store.retireSigningKeysExcept('u3', 200);
      const retired = Object.fromEntries((await store.listSigningKeys()).filter((k) => k.kid.startsWith('u')).map((k) => [k.kid, k.retiredAt]));
      assert.deepEqual(retired, { u1: 200, u2: 150, u3: null });
      for (const kid of ['u1', 'u2', 'u3']) await store.deleteSigningKey(kid);
    });

    test('signing keys: a key is added unless one of its algorithm is active then, atomically', async () => {
      for (const key of await store.listSigningKeys()) await store.deleteSigningKey(key.kid);
      const key = (kid: string, alg: string, activatesAt: number) => ({ kid, alg, jwk: { kty: 'EC' }, createdAt: activatesAt, activatesAt, retiredAt: null });
      await store.addSigningKey({ ...key('old', 'ES256', 50), retiredAt: 90 });
      assert.equal(await store.addSigningKeyRetiringOthers(key('a1', 'ES256', 100), { unlessActive: true }), true, 'no active key: added');
      assert.equal(await store.addSigningKeyRetiringOthers(key('a2', 'ES256', 100), { unlessActive: true }), false, 'a1 is active');
      assert.equal(await store.addSigningKeyRetiringOthers(key('r1', 'RS256', 100), { unlessActive: true }), true, 'another algorithm: added');
      const state = Object.fromEntries((await store.listSigningKeys()).map((k) => [k.kid, k.retiredAt]));
      assert.deepEqual(state, { old: 90, a1: 100, r1: null }, 'the others retired from its activation on, an earlier retirement kept');
      const outcomes = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((kid) => store.addSigningKeyRetiringOthers(key(kid, 'ES256', 200), { unlessActive: true })));
      assert.equal(outcomes.filter(Boolean).length, 1, 'of parallel adds one gets in');
      for (const k of await store.listSigningKeys()) await store.deleteSigningKey(k.kid);
    });

    test('signing keys: instances loading keys at once from a store without any (first start, or the store lost them) all sign with one key', async () => {
      const load = () => loadSigningKeys(store, 'ES256', 600, clock);
      for (const round of ['first start', 'keys lost']) {
        for (const key of await store.listSigningKeys()) await store.deleteSigningKey(key.kid);
        const instances = await Promise.all([load(), load(), load()]);
        const stored = await store.listSigningKeys();
        assert.equal(stored.length, 1, `${round}: one key made`);
        for (const keys of instances) assert.deepEqual(keys.map((k) => k.kid), [stored[0]!.kid], `${round}: every instance signs with it and publishes it`);
        clock.advanceSeconds(30);
        assert.deepEqual((await load()).map((k) => k.kid), [stored[0]!.kid], `${round}: it still signs at the next reload`);
      }
      for (const key of await store.listSigningKeys()) await store.deleteSigningKey(key.kid);
    });

    test('settings: the first writer wins', async () => {
      assert.equal(await store.getOrSetSetting('cookie-key', 'first'), 'first');
      assert.equal(await store.getOrSetSetting('cookie-key', 'second'), 'first');
    });

    test('login attempts: reserved up to the limit, refused past it with the rest of the window', async () => {
      const counters = [{ key: 'pair:a', limit: 2 }, { key: 'ip:a' }];
      assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: true, counts: [1, 1] });
      clock.advanceSeconds(10);
      assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: true, counts: [2, 2] });
      assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: false, retryAfterSeconds: 50 });
      assert.deepEqual(await store.reserveAttempt([{ key: 'ip:a' }], 60), { granted: true, counts: [3] }, 'a refusal counts nothing');
      clock.advanceSeconds(50);
      assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: true, counts: [1, 1] }, 'a new window starts from zero');
    });

    test('login attempts: a limit holds under parallel reservations', async () => {
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => store.reserveAttempt([{ key: 'pair:b', limit: 7 }, { key: 'user:b' }], 60)));
      assert.equal(outcomes.filter((o) => o.granted).length, 7);
      assert.deepEqual(await store.reserveAttempt([{ key: 'user:b' }], 60), { granted: true, counts: [8] });
    });

    test('login attempts: released and cleared', async () => {
      const counters = [{ key: 'pair:c', limit: 2 }];
      await store.reserveAttempt(counters, 60);
      await store.reserveAttempt(counters, 60);
      await store.releaseAttempt('pair:c');
      assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: true, counts: [2] });
      await store.clearAttempts('pair:c');
      assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: true, counts: [1] });
      await store.releaseAttempt('pair:c');
      await store.releaseAttempt('pair:c');
      assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: true, counts: [1] }, 'never below zero');
      await store.releaseAttempt('pair:none');
      assert.deepEqual(await store.reserveAttempt([{ key: 'pair:none' }], 60), { granted: true, counts: [1] });
    });

    test('login attempts: a clock stepped back keeps a window for at most its length, not for the step (no user locked out for an hour)', async () => {
      const counters = [{ key: 'pair:step', limit: 2 }];
      await store.reserveAttempt(counters, 60);
      await store.reserveAttempt(counters, 60);
      assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: false, retryAfterSeconds: 60 });
      try {
        clock.advanceSeconds(-INSTANCE_CLOCK_SKEW_SECONDS);
        assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: false, retryAfterSeconds: 60 + INSTANCE_CLOCK_SKEW_SECONDS },
          'a step within the instances\' skew changes nothing');
        clock.advanceSeconds(-3600);
        assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: true, counts: [1] }, 'a window stamped an hour ahead is stale');
        assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: true, counts: [2] });
        assert.deepEqual(await store.reserveAttempt(counters, 60), { granted: false, retryAfterSeconds: 60 }, 'the new window counts as any other');
      } finally {
        clock.advanceSeconds(3600 + INSTANCE_CLOCK_SKEW_SECONDS);
      }
    });

    describe('refresh-token reuse interval (30 s)', () => {
      const interval = 30;
      const setUp = async (grantId: string) => {
        const replays: Array<[string, string | undefined]> = [];
        const retried: Array<string | undefined> = [];
        const tokens = createAdapterFactory(store, (model, g) => replays.push([model, g]), {
          refreshTokenReuseIntervalSeconds: interval, onReuseWithinInterval: (g) => retried.push(g),
        })('RefreshToken');
        await store.upsert('Grant', grantId, { accountId: 'alice' }, 3600);
        await tokens.upsert(`${grantId}-rt0`, { grantId, iiat: 1000 } as never, 3600);
        await tokens.consume(`${grantId}-rt0`);
        await tokens.upsert(`${grantId}-rt1`, { grantId, iiat: 1000, rotations: 1 } as never, 3600);
        // Another login of the same client in the same session: a second chain in the grant.
        await tokens.upsert(`${grantId}-other-chain`, { grantId, iiat: 2000, rotations: 4 } as never, 3600);
        return { tokens, replays, retried };
      };

      test('a retry inside the interval, successor unused: the token reads unused, is let through, the unused successor dies, the grant lives', async () => {
        const { tokens, replays, retried } = await setUp('gr1');
        clock.advanceSeconds(interval - 1);
        const found = await tokens.find('gr1-rt0');
        assert.ok(found);
        assert.equal(found.consumed, undefined, 'oidc-provider must not see it as used');
        await tokens.consume('gr1-rt0');
        assert.deepEqual(retried, ['gr1']);
        assert.deepEqual(replays, []);
        assert.equal(await store.find('RefreshToken', 'gr1-rt1'), undefined, 'the unused successor is revoked: one live token per grant');
        assert.ok(await store.find('Grant', 'gr1'));
        assert.ok(await store.find('RefreshToken', 'gr1-other-chain'), 'the other chain of the grant is left alone');
        // The retry's own successor works like any other token.
        await tokens.upsert('gr1-rt1b', { grantId: 'gr1', iiat: 1000, rotations: 1 } as never, 3600);
        await tokens.consume('gr1-rt1b');
        assert.deepEqual(replays, []);
      });

      test('a retry after the successor was used revokes the whole grant', async () => {
        const { tokens, replays, retried } = await setUp('gr2');
        await tokens.consume('gr2-rt1');
        await tokens.upsert('gr2-rt2', { grantId: 'gr2', iiat: 1000, rotations: 2 } as never, 3600);
        clock.advanceSeconds(1);
        assert.ok((await tokens.find('gr2-rt0'))?.consumed, 'shown as used, so oidc-provider revokes');
        await assert.rejects(tokens.consume('gr2-rt0'), (err: { error?: string }) => err.error === 'invalid_grant');
        assert.deepEqual(retried, []);
        assert.deepEqual(replays, [['RefreshToken', 'gr2']]);
        assert.equal(await store.find('Grant', 'gr2'), undefined);
        assert.equal(await store.find('RefreshToken', 'gr2-rt2'), undefined);
      });

      test('a retry after the interval revokes the whole grant', async () => {
        const { tokens, replays, retried } = await setUp('gr3');
        clock.advanceSeconds(interval + 1);
        assert.ok((await tokens.find('gr3-rt0'))?.consumed);
        await assert.rejects(tokens.consume('gr3-rt0'), (err: { error?: string }) => err.error === 'invalid_grant');
        assert.deepEqual(retried, []);
        assert.deepEqual(replays, [['RefreshToken', 'gr3']]);
        assert.equal(await store.find('RefreshToken', 'gr3-rt1'), undefined);
      });

      test('a clock stepped back does not stretch the interval: a retry it would put "before" the use revokes the grant', async () => {
        const { tokens, replays, retried } = await setUp('gr6');
        try {
          clock.advanceSeconds(-3600);
          assert.ok((await tokens.find('gr6-rt0'))?.consumed, 'shown as used, so oidc-provider revokes');
          await assert.rejects(tokens.consume('gr6-rt0'), (err: { error?: string }) => err.error === 'invalid_grant');
          assert.deepEqual(retried, []);
          assert.deepEqual(replays, [['RefreshToken', 'gr6']]);
        } finally {
          clock.advanceSeconds(3600);
        }
        const skewed = await setUp('gr7');
        try {
          clock.advanceSeconds(-INSTANCE_CLOCK_SKEW_SECONDS);
          await skewed.tokens.consume('gr7-rt0');
          assert.deepEqual(skewed.retried, ['gr7'], 'a step within the instances\' skew is still a retry');
        } finally {
          clock.advanceSeconds(INSTANCE_CLOCK_SKEW_SECONDS);
        }
      });

      test('the interval applies to refresh tokens only: a replayed code still revokes at once', async () => {
        const replays: string[] = [];
        const codes = createAdapterFactory(store, (model) => replays.push(model), { refreshTokenReuseIntervalSeconds: interval })('AuthorizationCode');
        await codes.upsert('code-x', { grantId: 'gr4' } as never, 60);
        await codes.consume('code-x');
        await assert.rejects(codes.consume('code-x'));
        assert.deepEqual(replays, ['AuthorizationCode']);
      });

      test('with the interval off (0), a retry revokes at once', async () => {
        const replays: string[] = [];
        const tokens = createAdapterFactory(store, (model) => replays.push(model))('RefreshToken');
        await store.upsert('Grant', 'gr5', { accountId: 'alice' }, 3600);
        await tokens.upsert('gr5-rt0', { grantId: 'gr5' } as never, 3600);
        await tokens.consume('gr5-rt0');
        assert.ok((await tokens.find('gr5-rt0'))?.consumed);
        await assert.rejects(tokens.consume('gr5-rt0'));
        assert.deepEqual(replays, ['RefreshToken']);
      });
    });

    test('health: ready while the store serves', async () => {
      assert.deepEqual(await store.health(), { ok: true });
    });
  });
}
