// The SQLite store's volume runs full: /readyz says so, writes answer 503 with Retry-After (never
// a 500), nothing is corrupted, and the IdP serves again when space returns. Needs a small volume
// of its own: a tmpfs mounted for the test, so it runs as root only and is skipped otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startIdp, waitForLine } from '../support/idp-process.ts';
import { login, rpConfig, tokenRequest } from '../support/oidc-rp.ts';
import { isReady, scale, until } from '../support/faults.ts';

const VOLUME_MB = 8;
const WRITES_WHILE_FULL = scale(20, 100);

function mountTmpfs(): { dir: string; unmount(): void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a small tmpfs as a volume that can fill up';
  const dir = mkdtempSync(join(tmpdir(), 'idp-small-volume-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${VOLUME_MB}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return `mount -t tmpfs failed: ${mounted.stderr.trim()}`;
  }
  return { dir, unmount: () => { spawnSync('umount', [dir]); rmSync(dir, { recursive: true, force: true }); } };
}

/** Fills the volume with a file until the kernel refuses another byte. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

const volume = mountTmpfs();
const skip = typeof volume === 'string' ? volume : false;
if (skip) console.log(`# disk-full fault test skipped: ${skip}`);

test('disk full: clear readiness and 503s, no corruption, recovery when space returns', { skip, timeout: 300_000 }, async () => {
  const { dir, unmount } = volume as Exclude<typeof volume, string>;
  const dataDir = join(dir, 'idp');
  const idp = await startIdp({ IDP_DATA_DIR: dataDir, IDP_DATA_DIR_MIN_FREE_MB: '1' });
  try {
    const spa = await rpConfig(idp.issuer, 'spa');
    let token = (await login(spa, 'alice', 'demo-alice')).tokens.refresh_token!;
    const refresh = (t: string) => tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: t });
    assert.ok(await isReady(idp.base));

    const filler = join(dir, 'filler');
    fill(filler);
    const ready = await fetch(`${idp.base}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(((await ready.json()) as { reason: string }).reason, new RegExp(`${dataDir}: 0 MiB free, needs 1 MiB`));

    // Writes may still land in space SQLite already holds; none may answer 500, and once the
    // space is exhausted they answer 503 with Retry-After.
    const statuses: number[] = [];
    let unavailable = 0;
    for (let i = 0; i < WRITES_WHILE_FULL; i++) {
      const res = await refresh(token);
      statuses.push(res.status);
      if (res.status === 200) token = String(res.body['refresh_token']);
      if (res.status === 503) {
        assert.equal(res.body['error'], 'temporarily_unavailable');
        unavailable++;
      }
    }
    assert.deepEqual([...new Set(statuses)].filter((s) => s !== 200 && s !== 503), [], `statuses while full: ${statuses.join(',')}`);
    assert.ok(unavailable > 0, `no write refused on a full volume: ${statuses.join(',')}`);
    // The log names the cause (its line, on the IdP's stdout, may be read after the 503 answers).
    await waitForLine(idp.logs, (l) => l.includes('"store_unavailable"') && l.includes('disk full'), 'store_unavailable line naming a full disk');

    rmSync(filler);
    await until('ready again once space returns', () => isReady(idp.base));
    const after = await refresh(token);
    assert.equal(after.status, 200, 'the login survived the full disk');

    await idp.stop('SIGTERM');
    const db = new DatabaseSync(join(dataDir, 'idp.sqlite'), { readOnly: true });
    try {
      assert.equal(db.prepare('PRAGMA integrity_check').get()!['integrity_check'], 'ok');
    } finally {
      db.close();
    }
    console.log(`# ${WRITES_WHILE_FULL} refreshes on a full ${VOLUME_MB} MiB volume: ${statuses.filter((s) => s === 200).length} landed, ${unavailable} answered 503, no 500, database intact`);
  } finally {
    await idp.dispose();
    unmount();
  }
});
