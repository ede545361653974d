// The SQLite session store unable to serve: its file deleted or replaced under the running BFF
// (every write refused, since it would be lost at the next restart), or the store refusing a write
// (disk full): 503 with Retry-After and not ready, never a 500.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { DatabaseFileGoneError, isSqliteOutage } from '@suite/process-shell';
import { FILE_GONE } from '../../../tests/support/database-file-gone.ts';
import { SQLITE_FILE } from '../src/sessions/sqlite-session-store.ts';
import { Browser, startBff, startSystem, type System } from './support/system.ts';

describe('the session database file gone from under a running BFF', () => {
  let system: System;
  before(async () => { system = await startSystem(); });
  after(async () => { await system?.dispose(); });

  for (const [how, remove, said] of FILE_GONE) {
    it(`${how}: /readyz 503, every request that writes 503 with Retry-After, nothing acknowledged`, async () => {
      const bff = await startBff({ BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url });
      try {
        const browser = new Browser(bff);
        await browser.login();
        assert.equal((await bff.app.inject({ url: '/readyz' })).statusCode, 200);
        remove(join(bff.config.BFF_DATA_DIR, SQLITE_FILE));
        assert.equal((await bff.app.inject({ url: '/readyz' })).statusCode, 503, how);
        // A callback (its state's lock is written), a logout (the session deleted): refused, not lost.
        const other = new Browser(bff);
        const start = await other.request('GET', '/bff/login', { csrf: false });
        assert.equal(start.statusCode, 302, 'a login starts: nothing of it is written (decision 0071)');
        const state = new URL(start.headers.location as string).searchParams.get('state')!;
        for (const [what, res] of [
          ['callback', await other.request('GET', `/bff/callback?code=made-up&state=${state}`, { csrf: false })],
          ['logout', await browser.request('POST', '/bff/logout')],
        ] as const) {
          assert.equal(res.statusCode, 503, `${how}: ${what} ${res.body}`);
          assert.equal(res.headers['retry-after'], '5', `${how}: ${what}`);
        }
        const logged = bff.logs.filter((l) => l['msg'] === 'request failed').map((l) => String((l['err'] as { message: string }).message));
        assert.ok(logged.length > 0 && logged.every((m) => said.test(m)), `${how}: ${logged.join(' | ')}`);
      } finally {
        await bff.dispose();
      }
    });
  }
});

it('a write the database refuses for lack of room (SQLITE_FULL) is an outage, answered 503, as is a file gone; a bug is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bff-full-'));
  try {
    const db = new DatabaseSync(join(dir, 'full.sqlite'));
    db.exec('CREATE TABLE t (x)');
    // The file may not grow past its current pages: the next page needed is "disk full".
    db.exec(`PRAGMA max_page_count = ${Number(db.prepare('PRAGMA page_count').get()!['page_count'])}`);
    const full = (() => {
      try {
        db.exec(`INSERT INTO t VALUES (randomblob(100000))`);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    db.close();
    assert.equal((full as { errcode?: number }).errcode, 13, 'SQLITE_FULL');
    assert.equal(isSqliteOutage(full), true);
    assert.equal(isSqliteOutage(new DatabaseFileGoneError('gone')), true);
    assert.equal(isSqliteOutage(new TypeError('a bug')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
