// SQLite housekeeping: the WAL stays near its limit however much is written, and expired rows are
// swept when the store opens (an IdP restarted often still cleans up), judged by the store's clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SQLITE_EXPIRED_ROW_GRACE_SECONDS, SQLITE_WAL_LIMIT_BYTES } from '../src/defaults.ts';
import { openSqliteStore } from '../src/storage/sqlite-store.ts';
import { ManualClock } from '../../../tests/support/manual-clock.ts';

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-housekeeping-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('the WAL is checkpointed and truncated near its limit', async () => {
  await withDir(async (dir) => {
    const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
    try {
      const payload = { grantId: 'g', filler: 'x'.repeat(900) };
      // About three times the limit written, one refresh-token-sized row per statement.
      const rows = Math.ceil((3 * SQLITE_WAL_LIMIT_BYTES) / 1000);
      let largest = 0;
      for (let i = 0; i < rows; i++) {
        await store.upsert('RefreshToken', `rt-${i}`, payload, 3600);
        if (i % 100 === 0) largest = Math.max(largest, statSync(join(dir, 'idp.sqlite-wal')).size);
      }
      // The WAL may exceed the limit by the pages written since the last checkpoint (a few pages here).
      assert.ok(largest <= SQLITE_WAL_LIMIT_BYTES + 64 * 1024, `WAL reached ${largest} bytes`);
    } finally {
      await store.close();
    }
  });
});

test('expired rows are swept when the store opens, past their grace', async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock();
    const first = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0, clock });
    await first.upsert('RefreshToken', 'short', { grantId: 'g' }, 60);
    await first.upsert('RefreshToken', 'long', { grantId: 'g' }, 30 * 24 * 3600);
    await first.close();
    const count = () => {
      const db = new DatabaseSync(join(dir, 'idp.sqlite'), { readOnly: true });
      try {
        return db.prepare("SELECT id FROM oidc_artifact WHERE model = 'RefreshToken' ORDER BY id").all().map((r) => r['id']);
      } finally {
        db.close();
      }
    };
    clock.advanceSeconds(60 + SQLITE_EXPIRED_ROW_GRACE_SECONDS - 1);
    await openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0, clock }).close();
    assert.deepEqual(count(), ['long', 'short'], 'kept through its grace');
    clock.advanceSeconds(2);
    await openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0, clock }).close();
    assert.deepEqual(count(), ['long'], 'swept at opening');
  });
});
