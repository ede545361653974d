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
import { openAtOnce } from '../../../tests/support/open-at-once.ts';

const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;

/**
 * The most pages one upsert of this test can write, derived from how a B-tree insert works rather
 * than from what a run happened to show. A row enters three B-trees (the table, and its grant and
 * expiry indexes; uid and user_code are NULL here). In each, an insert rebalances at most once per
 * level, and one rebalance rewrites at most five pages (three siblings become up to five); a tree
 * whose interior pages have at least two children is at most log2(rows) + 1 levels deep. Add
 * page 1 (the database size in its header), the row's overflow page and a freelist page.
 * Seen: up to 27 pages, varying from run to run (the table is WITHOUT ROWID with 1 kB rows, so
 * its interior pages hold about four rows and it is seven levels deep; which commits split depends
 * on the expiry values, so on when the test runs). CI saw a WAL 13 pages past the limit once.
 */
function pagesOfOneCommit(rows: number): number {
  const trees = 3;
  const pagesPerLevel = 5;
  const depth = Math.ceil(Math.log2(rows)) + 1;
  return trees * pagesPerLevel * depth + 3;
}

function pageSizeOf(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return Number(db.prepare('PRAGMA page_size').get()!['page_size']);
  } finally {
    db.close();
  }
}

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-housekeeping-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('the WAL is checkpointed and truncated near its limit', async () => {
  await withDir(async (dir) => {
    const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
    try {
      const pageSize = pageSizeOf(join(dir, 'idp.sqlite'));
      const payload = { grantId: 'g', filler: 'x'.repeat(900) };
      // About three times the limit written, one refresh-token-sized row per statement.
      const rows = Math.ceil((3 * SQLITE_WAL_LIMIT_BYTES) / 1000);
      let largest = 0;
      for (let i = 0; i < rows; i++) {
        await store.upsert('RefreshToken', `rt-${i}`, payload, 3600);
        if (i % 100 === 0) largest = Math.max(largest, statSync(join(dir, 'idp.sqlite-wal')).size);
      }
      // The checkpoint runs after the commit that crossed the limit, and each WAL frame is a page
      // plus a 24-byte header: the file may hold the limit's pages as frames, plus the pages of that
      // last commit (a row and its index entries, with the B-tree pages a split rewrites). Without
      // the checkpoint the WAL grows to every page every commit wrote (hundreds of MB here); with
      // it at 1.25 times the limit or more, it passes this bound too.
      const limitFrames = Math.floor(SQLITE_WAL_LIMIT_BYTES / pageSize);
      const bound = WAL_HEADER_BYTES + (limitFrames + pagesOfOneCommit(rows)) * (pageSize + WAL_FRAME_HEADER_BYTES);
      assert.ok(largest <= bound, `WAL reached ${largest} bytes, above ${bound}`);
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

test('instances starting at once on a new data directory all open the store (the busy timeout holds from the first statement)', async () => {
  const failures = await openAtOnce(join(import.meta.dirname, '..', 'src', 'storage', 'sqlite-store.ts'),
    "const s = store.openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 }); await s.close();", { rounds: 15, openers: 3 });
  assert.deepEqual(failures, []);
});
