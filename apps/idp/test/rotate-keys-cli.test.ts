// `npm run rotate-keys -w apps/idp` as an operator runs it, against a store an IdP has started on
// (SQLite and Redis): a misspelt or stray argument is refused before the store is opened; a store
// no IdP has used (the data directory or Redis database of another environment) is refused, not
// created, since a rotation there reports success and changes nothing; runs at the same moment
// each add their key and leave exactly one signing; a store that fails is exit 1 with its reason,
// credentials hidden; nothing printed is a private key.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../../scripts/ports.ts';
import { startRedis, type RedisProcess } from '../../../tests/support/redis-process.ts';
import { KEY_ACTIVATION_DELAY_SECONDS } from '../src/defaults.ts';
import { loadSigningKeys } from '../src/signing-keys.ts';
import { openRedisStore } from '../src/storage/redis-store.ts';
import { openSqliteStore } from '../src/storage/sqlite-store.ts';
import type { Store, StoredSigningKey } from '../src/storage/store.ts';

const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'rotate-keys.ts');
const GRACE = 3600;

interface Run { code: number | null; stdout: string; stderr: string }

function rotate(env: Record<string, string>, ...args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, IDP_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => { stdout += b; });
  child.stderr.on('data', (b: Buffer) => { stderr += b; });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Every private member of every key in the store: none may appear in what the tool printed. */
function privateParts(keys: StoredSigningKey[]): string[] {
  return keys.flatMap((k) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => k.jwk[m]).filter((v): v is string => typeof v === 'string'));
}

async function assertRotated(store: Store, run: Run, { now }: { now: boolean }): Promise<string> {
  assert.equal(run.code, 0, run.stderr);
  const kid = /New RS256 signing key (\S+),/.exec(run.stdout)?.[1];
  assert.ok(kid, run.stdout);
  const keys = await store.listSigningKeys();
  const key = keys.find((k) => k.kid === kid);
  assert.ok(key, 'the key is in the store the IdP uses');
  const seconds = Math.floor(Date.now() / 1000);
  if (now) assert.ok(key.activatesAt <= seconds, 'signs at once');
  else assert.ok(key.activatesAt >= key.createdAt + KEY_ACTIVATION_DELAY_SECONDS, 'signs only after the activation delay');
  for (const secret of privateParts(keys)) assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a private key was printed');
  return kid;
}

describe('on SQLite', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'idp-rotate-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a data directory without the IdP\'s database is refused and left uncreated; one without keys is refused and left unchanged', async () => {
    const elsewhere = join(dir, 'not-the-idps');
    const missing = await rotate({ IDP_DATA_DIR: elsewhere }, '--now');
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^rotate-keys: no IdP database in IDP_DATA_DIR .*idp\.sqlite does not exist/);
    assert.equal(existsSync(elsewhere), false, 'nothing created');

    const empty = join(dir, 'empty');
    await openSqliteStore({ dataDir: empty, synchronous: 'NORMAL', sweepIntervalSeconds: 0 }).close();
    const keyless = await rotate({ IDP_DATA_DIR: empty }, '--now');
    assert.equal(keyless.code, 2, keyless.stderr);
    assert.match(keyless.stderr, /no signing key in the store of IDP_DATA_DIR .*no IdP has started on it/);
    const store = openSqliteStore({ dataDir: empty, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
    try {
      assert.deepEqual(await store.listSigningKeys(), [], 'nothing written');
    } finally {
      await store.close();
    }
  });

  test('rotates in the IdP\'s store: delayed by default, at once with --now; a misspelt option rotates nothing', async () => {
    const dataDir = join(dir, 'idp');
    const store = openSqliteStore({ dataDir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
    try {
      await loadSigningKeys(store, 'RS256', GRACE);
      const before = await store.listSigningKeys();
      const misspelt = await rotate({ IDP_DATA_DIR: dataDir }, '--nwo');
      assert.equal(misspelt.code, 2);
      assert.deepEqual(await store.listSigningKeys(), before, 'a refused run writes nothing');

      await assertRotated(store, await rotate({ IDP_DATA_DIR: dataDir }), { now: false });
      const urgent = await assertRotated(store, await rotate({ IDP_DATA_DIR: dataDir }, '--now'), { now: true });
      const signing = await loadSigningKeys(store, 'RS256', GRACE);
      assert.equal(signing[0]!.kid, urgent, 'the --now key signs');
    } finally {
      await store.close();
    }
  });

  test('runs at the same moment each add their key; exactly one signs afterwards', async () => {
    const dataDir = join(dir, 'concurrent');
    const store = openSqliteStore({ dataDir, synchronous: 'NORMAL', sweepIntervalSeconds: 0 });
    try {
      const [first] = await loadSigningKeys(store, 'RS256', GRACE);
      const runs = await Promise.all(Array.from({ length: 4 }, () => rotate({ IDP_DATA_DIR: dataDir }, '--now')));
      const kids = [];
      for (const run of runs) kids.push(await assertRotated(store, run, { now: true }));
      const keys = await store.listSigningKeys();
      assert.deepEqual(keys.map((k) => k.kid).sort(), [first!.kid, ...kids].sort(), 'every key published');
      const seconds = Math.floor(Date.now() / 1000) + 1;
      const active = keys.filter((k) => k.activatesAt <= seconds && (k.retiredAt === null || k.retiredAt > seconds));
      assert.equal(active.length, 1, 'one key signs');
      assert.ok(kids.includes(active[0]!.kid));
    } finally {
      await store.close();
    }
  });
});

describe('on Redis', () => {
  let redis: RedisProcess;
  before(async () => { redis = await startRedis(); });
  after(() => redis?.stop());

  test('an empty Redis database is refused; the IdP\'s is rotated', async () => {
    const env = { IDP_STORE: 'redis', IDP_REDIS_URL: redis.url };
    const refused = await rotate({ ...env, IDP_REDIS_URL: redis.url.replace(/\/0$/, '/5') }, '--now');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /no signing key in the store of IDP_REDIS_URL/);
    const store = await openRedisStore(redis.url);
    try {
      await loadSigningKeys(store, 'RS256', GRACE);
      const kid = await assertRotated(store, await rotate(env, '--now'), { now: true });
      assert.equal((await loadSigningKeys(store, 'RS256', GRACE))[0]!.kid, kid);
    } finally {
      await store.close();
    }
  });

  test('a Redis that does not answer: exit 1 with the reason, its password hidden', async () => {
    const url = `redis://:canary-redis-pw@127.0.0.1:${await freePort()}/0`;
    const run = await rotate({ IDP_STORE: 'redis', IDP_REDIS_URL: url });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^rotate-keys: failed: .*Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/);
    assert.doesNotMatch(run.stderr + run.stdout, /canary-redis-pw/);
  });
});

test('--help says what it does and exits 0', () => {
  const out = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  assert.equal(out.status, 0);
  assert.match(out.stdout, /^usage: npm run rotate-keys -w apps\/idp \[-- --now\]/);
});
