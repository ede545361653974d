// Store health: /readyz checks the store, outages answer 503 with Retry-After (never a 500), Redis
// errors are structured log lines, start-up errors name the path or URL and the cause, an IdP
// started while Redis is down becomes ready when Redis answers, and a Redis that would lose
// writes on a crash is refused in production (docs/decisions/0011-durable-redis.md).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { readIdpConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { openStore } from '../src/storage/open-store.ts';
import { openRedisStore, redisUnavailableReason } from '../src/storage/redis-store.ts';
import { openSqliteStore, SCHEMA_VERSION } from '../src/storage/sqlite-store.ts';
import { StoreUnavailableError } from '../src/storage/store.ts';
import { freePort } from '../../../scripts/ports.ts';
import { FILE_GONE } from '../../../tests/support/database-file-gone.ts';
import { damageSqliteFile } from '../../../tests/support/damaged-sqlite.ts';
import { schemaOf, writeNewerDatabase, writeOlderDatabase } from '../../../tests/support/schema-version.ts';
import { PRODUCTION_SECRETS, runIdpExpectingFailure, startIdp, withIdp } from '../../../tests/support/idp-process.ts';
import { authorizationRequest, login, rpConfig, tokenRequest } from '../../../tests/support/oidc-rp.ts';
import { startRedis } from '../../../tests/support/redis-process.ts';
import { closedIfOpened } from '../../../tests/support/closed-if-opened.ts';

const readyz = async (base: string) => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { status: string; reason?: string } };
};

/** Polls until `check` holds (bounded by count, not by a timing threshold). */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`never: ${what}`);
}
const untilReady = (base: string, status: number) =>
  until(`/readyz answers ${status}`, async () => (await readyz(base).catch(() => undefined))?.status === status);
const logged = (logs: string[], event: string) => logs.some((l) => l.startsWith('{') && JSON.parse(l).event === event);

describe('SQLite store', () => {
  test('/readyz is 200 on a writable data directory with room, 503 with the reason and Retry-After without room', async () => {
    await withIdp({}, async (idp) => {
      assert.deepEqual((await readyz(idp.base)).body, { status: 'ready' });
    });
    await withIdp({ IDP_DATA_DIR_MIN_FREE_MB: String(1024 * 1024) }, async (idp) => {
      const state = await readyz(idp.base);
      assert.equal(state.status, 503);
      assert.ok(state.retryAfter);
      assert.match(state.body.reason ?? '', new RegExp(`${idp.dataDir}: \\d+ MiB free, needs 1048576 MiB`));
    });
  });

  test('a data directory that cannot be created stops the start with its path and the cause', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'idp-file-'));
    const file = join(parent, 'not-a-directory');
    writeFileSync(file, '');
    try {
      const { code, output } = await runIdpExpectingFailure({ IDP_DATA_DIR: join(file, 'data') });
      assert.equal(code, 2);
      assert.match(output, new RegExp(`cannot open the SQLite store in IDP_DATA_DIR: ${join(file, 'data')}: not a directory`));
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

test('a read-only data directory stops the start with its path and the cause', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-readonly-'));
  const asRoot = process.getuid?.() === 0;
  // root writes through file modes: a read-only mount is needed, else the directory's mode does it.
  if (asRoot && spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    t.skip('cannot mount a read-only tmpfs');
    return;
  }
  if (!asRoot) chmodSync(dir, 0o500);
  try {
    const { code, output } = await runIdpExpectingFailure({ IDP_DATA_DIR: join(dir, 'data') });
    assert.equal(code, 2);
    assert.match(output, new RegExp(`cannot open the SQLite store in IDP_DATA_DIR: ${join(dir, 'data')}: ${asRoot ? 'read-only file system' : 'permission denied'}`));
  } finally {
    if (asRoot) spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged database file stops the start with its path and what to do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-damaged-'));
  try {
    const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
    try {
      for (let i = 0; i < 200; i++) await store.upsert('Session', `s${i}`, { filler: 'x'.repeat(1000) }, 3600);
    } finally {
      await store.close();
    }
    damageSqliteFile(join(dir, 'idp.sqlite'));
    const { code, output } = await runIdpExpectingFailure({ IDP_DATA_DIR: dir });
    assert.equal(code, 2);
    assert.match(output, new RegExp(`cannot open the SQLite store in IDP_DATA_DIR: .*the database file ${join(dir, 'idp.sqlite')} is corrupted \\(.+\\); restore it from a backup, or move it away to start with an empty one`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database of another schema version: a newer one is refused untouched, naming both versions; an older one is upgraded and stamped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-schema-'));
  const file = join(dir, 'idp.sqlite');
  try {
    writeNewerDatabase(file, SCHEMA_VERSION + 1);
    assert.throws(() => openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 }), (err: Error) => err instanceof StoreUnavailableError
      && err.reason === `cannot open the SQLite store in IDP_DATA_DIR: ${dir}: the database file ${file} has schema version ${SCHEMA_VERSION + 1}, written by a newer version of this app (this one knows up to ${SCHEMA_VERSION}); run that version, or restore a backup made before the upgrade`);
    assert.deepEqual(schemaOf(file), { version: SCHEMA_VERSION + 1, tables: ['from_the_future'], columns: [] }, 'nothing read into it, nothing written');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);

    // Before the stamp: signing keys without activates_at.
    writeOlderDatabase(file, `CREATE TABLE signing_key (kid TEXT PRIMARY KEY, alg TEXT NOT NULL, jwk TEXT NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER);
      INSERT INTO signing_key VALUES ('old', 'RS256', '{}', 100, NULL)`);
    const store = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
    try {
      assert.deepEqual((await store.listSigningKeys()).map((k) => [k.kid, k.activatesAt]), [['old', 100]]);
    } finally {
      await store.close();
    }
    const upgraded = schemaOf(file, 'signing_key');
    assert.equal(upgraded.version, SCHEMA_VERSION);
    assert.ok(upgraded.columns.includes('activates_at'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('damage met while running answers 503, not a 500, and keeps /readyz not ready until a restart checks the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-damaged-'));
  const logs: string[] = [];
  try {
    // Larger than SQLite's page cache (2 MiB), so that pages checked at opening are read again from the file.
    const first = openSqliteStore({ dataDir: dir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
    try {
      for (let i = 0; i < 6000; i++) await first.upsert('Session', `s${i}`, { filler: 'x'.repeat(1000) }, 3600);
    } finally {
      await first.close();
    }
    const store = await openStore(readIdpConfig({ IDP_DATA_DIR: dir }), { logger: createLogger('info', (line) => logs.push(line)) });
    try {
      assert.deepEqual(await store.health(), { ok: true });
      damageSqliteFile(join(dir, 'idp.sqlite'));
      const outcomes = await Promise.all(Array.from({ length: 6000 }, (_, i) => store.find('Session', `s${i}`).then(() => 'read', (err: unknown) => err)));
      const refused = outcomes.filter((o) => o !== 'read');
      assert.ok(refused.length > 0, 'no read met the damage');
      for (const err of refused) assert.ok(err instanceof StoreUnavailableError && err.statusCode === 503, String(err));
      const health = await store.health();
      assert.equal(health.ok, false);
      assert.match((health as { reason: string }).reason, /database disk image is malformed; restart to check the file/);
      // The damage lands on pages of its own choosing: a later lookup answers, or, if its index page
      // is among them, is refused as a 503 too; never a 500.
      const later = await store.find('Session', 'no-such-session').then((v) => v, (err: unknown) => err);
      assert.ok(later === undefined || (later instanceof StoreUnavailableError && later.statusCode === 503), String(later));
      assert.equal((await store.health()).ok, false, 'and the store stays not ready');
      assert.ok(logs.some((l) => JSON.parse(l).event === 'store_unavailable'));
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database file deleted or replaced under the running IdP: every write refused as unavailable (503), not ready, the file and the cause named', async () => {
  for (const [how, remove, said] of FILE_GONE) {
    const dataDir = mkdtempSync(join(tmpdir(), 'idp-file-gone-'));
    const logs: string[] = [];
    const store = await openStore(readIdpConfig({ IDP_DATA_DIR: dataDir, IDP_DATA_DIR_MIN_FREE_MB: '0' }), { logger: createLogger('info', (l) => logs.push(l)) });
    try {
      await store.upsert('Session', 'before', { accountId: 'alice' }, 3600);
      assert.deepEqual(await store.health(), { ok: true }, how);
      remove(join(dataDir, 'idp.sqlite'));
      const health = await store.health();
      assert.equal(health.ok, false, how);
      assert.match(health.reason!, said, how);
      assert.match(health.reason!, new RegExp(join(dataDir, 'idp.sqlite')), how);
      // Every kind of write: what would be lost at the next restart is never acknowledged.
      const writes: Array<[string, () => Promise<unknown>]> = [
        ['upsert', () => store.upsert('Session', 'after', { accountId: 'alice' }, 3600)],
        ['consume', () => store.consume('AuthorizationCode', 'code')],
        ['revokeGrant', () => store.revokeGrant('grant')],
        ['addSigningKey', () => store.addSigningKey({ kid: 'k', alg: 'RS256', jwk: {}, createdAt: 1, activatesAt: 1, retiredAt: null })],
        ['reserveAttempt', () => store.reserveAttempt([{ key: 'alice', limit: 10 }], 900)],
      ];
      for (const [name, write] of writes) {
        await assert.rejects(write(), (err: Error) => err instanceof StoreUnavailableError && said.test(err.reason), `${how}: ${name}`);
      }
      assert.equal(logs.filter((l) => JSON.parse(l).event === 'store_unavailable').length, 1, `${how}: one log line`);
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
});

describe('Redis store', () => {
  test('a Redis URL\'s credentials are never shown: not in the start-up error, the log or an outage\'s reason', async () => {
    const port = await freePort();
    // A password in the user part, and one in the query (ioredis reads `password` from there too).
    const url = `redis://idp:canary-user-part-pw@127.0.0.1:${port}/0?password=canary-query-pw`;
    const lines: string[] = [];
    const config = readIdpConfig({ IDP_STORE: 'redis', IDP_REDIS_URL: url, IDP_DATA_DIR: tmpdir() });
    const refused = await openStore(config, { logger: createLogger('info', (line) => lines.push(line)) }).then(() => undefined, (err: StoreUnavailableError) => err.reason);
    assert.ok(refused, 'nothing answers on that port');
    const reason = redisUnavailableReason(url, Object.assign(new Error('READONLY You can\'t write against a read only replica.'), { name: 'ReplyError' }));
    for (const text of [refused, reason, ...lines]) {
      assert.match(text ?? '', new RegExp(`redis://idp:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0\\?password=\\*\\*\\*`), text);
      assert.doesNotMatch(text ?? '', /canary/, text);
    }
    assert.ok(lines.some((l) => l.includes('"redis_error"')), lines.join('\n'));
  });

  test('Redis down: 503 with Retry-After and a structured log line; back up: ready and serving, the login intact', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const idp = await startIdp({ IDP_STORE: 'redis', IDP_REDIS_URL: redis.url });
    try {
      const spa = await rpConfig(idp.issuer, 'spa');
      const { tokens } = await login(spa, 'alice', 'demo-alice');
      assert.equal((await readyz(idp.base)).status, 200);

      await redis.kill('SIGKILL');
      const refused = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
      assert.equal(refused.status, 503);
      assert.equal(refused.body['error'], 'temporarily_unavailable');
      const page = await fetch((await authorizationRequest(spa)).url, { headers: { accept: 'text/html' }, redirect: 'manual' });
      assert.equal(page.status, 503);
      assert.ok(page.headers.get('retry-after'));
      const state = await readyz(idp.base);
      assert.equal(state.status, 503);
      assert.match(state.body.reason ?? '', new RegExp(`Redis at redis://127.0.0.1:${redis.port}/0`));
      await until('a structured redis_error line', () => logged(idp.logs, 'redis_error'));
      // Written before the 503 it explains, but read from the pipe whenever it is.
      await until('a structured store_unavailable line', () => logged(idp.logs, 'store_unavailable'));

      await redis.start();
      await untilReady(idp.base, 200);
      await until('store_recovered logged', async () => {
        await fetch(new URL('/.well-known/openid-configuration', idp.issuer));
        return logged(idp.logs, 'store_recovered') || logged(idp.logs, 'redis_ready');
      });
      const refreshed = await tokenRequest(idp.issuer, { grant_type: 'refresh_token', client_id: 'spa', refresh_token: tokens.refresh_token! });
      assert.equal(refreshed.status, 200, 'the refresh token survived the outage unconsumed');
      // No error went unhandled (ioredis says so on stderr): checked once the IdP has stopped and
      // every line it wrote, on either stream, has been read.
      await idp.stop();
      assert.ok(!idp.logs.some((l) => l.includes('Unhandled error event')), idp.logs.join('\n'));
    } finally {
      await idp.dispose();
    }
  });

  test('an IdP started while Redis is down says why it is not ready and becomes ready when Redis answers', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    await redis.kill('SIGKILL');
    const idp = await startIdp({ IDP_STORE: 'redis', IDP_REDIS_URL: redis.url });
    try {
      const state = await readyz(idp.base);
      assert.equal(state.status, 503);
      assert.match(state.body.reason ?? '', new RegExp(`waiting for the store: cannot reach Redis at redis://127.0.0.1:${redis.port}/0`));
      assert.equal((await fetch(new URL('/.well-known/openid-configuration', idp.issuer))).status, 503);
      assert.ok(idp.logs.some((l) => l.includes('"store_unavailable_at_start"')));
      await redis.start();
      await untilReady(idp.base, 200);
      const { tokens } = await login(await rpConfig(idp.issuer, 'spa'), 'alice', 'demo-alice');
      assert.ok(tokens.refresh_token);
    } finally {
      await idp.dispose();
    }
  });

  test('a Redis without persistence: refused in production with the setting named, a warning in development', async () => {
    const redis = await startRedis({ persistence: 'none' });
    const usersDir = mkdtempSync(join(tmpdir(), 'idp-users-'));
    try {
      const users = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'demo-users.json'), 'utf8'));
      const usersFile = join(usersDir, 'users.json');
      writeFileSync(usersFile, JSON.stringify({ ...users, demo: false }));
      const { code, output } = await runIdpExpectingFailure({
        IDP_STORE: 'redis', IDP_REDIS_URL: redis.url, IDP_PROFILE: 'production', IDP_ISSUER: 'https://id.example.com',
        IDP_USERS_FILE: usersFile, ...PRODUCTION_SECRETS,
      });
      assert.equal(code, 2);
      assert.match(output, /Redis at redis:\/\/127\.0\.0\.1:\d+\/0 is not durable: appendonly is not yes/);

      await withIdp({ IDP_STORE: 'redis', IDP_REDIS_URL: redis.url }, async (idp) => {
        const warning = idp.logs.find((l) => l.includes('"redis_not_durable"'));
        assert.ok(warning);
        assert.match(warning, /appendonly is not yes/);
      });
    } finally {
      rmSync(usersDir, { recursive: true, force: true });
      await redis.stop();
    }
  });
});

// Every setting that makes a Redis forget a write it acknowledged (docs/decisions/0011, 0053): a
// crash (no append-only file, or one fsynced by the kernel's leisure) or memory running short (a
// policy that deletes keys to make room: a used code's mark, a refresh token's, the signing keys).
const forgetfulRedisSettings: Array<[string, Record<string, string>, RegExp]> = [
  ['no append-only file', { appendonly: 'no' }, /appendonly is not yes/],
  ['an append-only file fsynced by the kernel', { appendfsync: 'no' }, /appendfsync is no: the kernel writes the file at its leisure.*; the append-only file must be fsynced always$/],
  // everysec postpones writing while an fsync is slow and answers all the same: a Redis crash loses
  // up to 2 s of acknowledged writes (docs/decisions/0063).
  ['an append-only file fsynced once a second', { appendfsync: 'everysec' }, /appendfsync is everysec: while an fsync is slow Redis answers writes it has not written.*; the append-only file must be fsynced always$/],
  // yes: no fsync at all while a rewrite of the append-only file or a snapshot runs (decision 0063).
  ['no fsync while the append-only file is rewritten', { 'no-appendfsync-on-rewrite': 'yes' }, /no-appendfsync-on-rewrite is yes: while Redis rewrites its append-only file .*a machine crash loses up to 30 s.*; it must be no$/],
  ['keys evicted by use once memory is full', { maxmemory: '1gb', 'maxmemory-policy': 'allkeys-lru' }, /maxmemory-policy is allkeys-lru: once its memory reaches maxmemory \(1073741824 bytes\) Redis deletes keys.*it must be noeviction/],
  ['keys with an expiry evicted (every token and session has one)', { 'maxmemory-policy': 'volatile-ttl' }, /maxmemory-policy is volatile-ttl: once a maxmemory is set .*it must be noeviction/],
  ['random eviction', { maxmemory: '512mb', 'maxmemory-policy': 'allkeys-random' }, /maxmemory-policy is allkeys-random/],
];

describe('a Redis that would forget writes', () => {
  test('is refused at opening in production, each setting named; warned about otherwise', async () => {
    const redis = await startRedis();
    const admin = new Redis(redis.url);
    try {
      const durable = await admin.call('CONFIG', 'GET', '*') as string[];
      const restore = async (settings: Record<string, string>) => {
        for (const name of Object.keys(settings)) await admin.call('CONFIG', 'SET', name, durable[durable.indexOf(name) + 1]!);
      };
      for (const [what, settings, named] of forgetfulRedisSettings) {
        for (const [name, value] of Object.entries(settings)) await admin.call('CONFIG', 'SET', name, value);
        await assert.rejects(closedIfOpened(openRedisStore(redis.url, { durability: 'require' }), (store) => store.close()), (err: Error) => {
          assert.match(err.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+\/0 is not durable: /, what);
          assert.match(err.message, named, what);
          return true;
        });
        const logs: string[] = [];
        const warned = await openRedisStore(redis.url, { durability: 'warn', logger: createLogger('info', (l) => logs.push(l)) });
        await warned.close();
        const warning = logs.map((l) => JSON.parse(l)).filter((l) => l.event === 'redis_not_durable');
        assert.equal(warning.length, 1, what);
        assert.match(warning[0].problem, named, what);
        await restore(settings);
      }
      // noeviction with a memory limit keeps every write or refuses it (OOM answers 503): accepted.
      await admin.call('CONFIG', 'SET', 'maxmemory', '1gb');
      const store = await openRedisStore(redis.url, { durability: 'require' });
      try {
        assert.deepEqual(await store.health(), { ok: true });
      } finally {
        await store.close();
      }
    } finally {
      admin.disconnect();
      // Turning appendonly back on writes a first append-only file in the background, during
      // which redis-server refuses to stop on SIGTERM: a crash suits a throwaway server.
      await redis.kill('SIGKILL');
      await redis.stop();
    }
  });

  test('a setting changed after opening makes the production store not ready, with the setting named, until it is set back', async (t) => {
    const redis = await startRedis();
    const admin = new Redis(redis.url);
    t.after(async () => {
      admin.disconnect();
      // As above: no SIGTERM while the first append-only file is written.
      await redis.kill('SIGKILL');
      await redis.stop();
    });
    const store = await openRedisStore(redis.url, { durability: 'require' });
    try {
      assert.deepEqual(await store.health(), { ok: true });
      for (const [what, settings, named] of forgetfulRedisSettings) {
        const before = Object.fromEntries(await Promise.all(Object.keys(settings).map(async (name) => [name, ((await admin.call('CONFIG', 'GET', name)) as string[])[1]!])));
        for (const [name, value] of Object.entries(settings)) await admin.call('CONFIG', 'SET', name, value);
        const health = await store.health();
        assert.equal(health.ok, false, what);
        assert.match(health.reason!, named, what);
        for (const [name, value] of Object.entries(before)) await admin.call('CONFIG', 'SET', name, String(value));
        assert.deepEqual(await store.health(), { ok: true }, `${what}, set back`);
      }
    } finally {
      await store.close();
    }
  });
});
