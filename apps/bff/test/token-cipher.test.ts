// Tokens at rest: AES-256-GCM with key rotation; a ciphertext altered, moved to another session or
// written with a removed key does not decrypt; the development key is generated once, owner-only,
// and the production profile refuses to run without configured keys.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { ConfigError } from '@suite/config';
import { DataDirError } from '@suite/process-shell';
import { buildBff } from '../src/app.ts';
import { readBffConfig } from '../src/config.ts';
import { DEV_KEY_FILE, loadTokenKeys, parseTokenKeys, TokenCipher, TokenKeyError } from '../src/token-cipher.ts';

const TOKENS = JSON.stringify({ accessToken: 'eyJhbGciOi.payload.signature', refreshToken: 'refresh-token-value' });

const TOKEN_CIPHER_MODULE = pathToFileURL(join(import.meta.dirname, '..', 'src', 'token-cipher.ts')).href;

describe('token encryption at rest', () => {
  it('round-trips, with a fresh IV each time, and shows nothing of the plaintext', () => {
    const cipher = new TokenCipher([randomBytes(32)]);
    const a = cipher.encrypt(TOKENS, 'session-1');
    const b = cipher.encrypt(TOKENS, 'session-1');
    assert.notEqual(a, b);
    assert.ok(!a.includes('refresh-token-value') && !a.includes('eyJhbGciOi'));
    assert.equal(cipher.decrypt(a, 'session-1'), TOKENS);
  });

  it('refuses a ciphertext moved to another session, altered, or in another format', () => {
    const cipher = new TokenCipher([randomBytes(32)]);
    const sealed = cipher.encrypt(TOKENS, 'session-1');
    assert.throws(() => cipher.decrypt(sealed, 'session-2'));
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    assert.throws(() => cipher.decrypt([...parts.slice(0, 3), body.toString('base64url')].join('.'), 'session-1'));
    assert.throws(() => cipher.decrypt('plain text', 'session-1'), TokenKeyError);
  });

  it('rotates: the newest key encrypts, older keys still decrypt, a removed key does not', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = new TokenCipher([oldKey]).encrypt(TOKENS, 's');
    const rotated = new TokenCipher([newKey, oldKey]);
    assert.equal(rotated.decrypt(before, 's'), TOKENS);
    assert.equal(rotated.isStale(before), true);
    const after = rotated.encrypt(TOKENS, 's');
    assert.equal(rotated.isStale(after), false);
    assert.equal(new TokenCipher([newKey]).decrypt(after, 's'), TOKENS);
    assert.throws(() => new TokenCipher([newKey]).decrypt(before, 's'), /no longer configured/);
  });

  it('reads keys from BFF_TOKEN_KEYS (base64 or base64url, 256 bits each), refusing anything else', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    assert.deepEqual(parseTokenKeys(`${k1.toString('base64')}, ${k2.toString('base64url')}`), [k1, k2]);
    assert.throws(() => parseTokenKeys(randomBytes(16).toString('base64')), /16 bytes/);
    assert.throws(() => parseTokenKeys('not base64!'), /not base64/);
    assert.throws(() => parseTokenKeys(`${k1.toString('base64')},`), /item 2 is empty/);
    assert.throws(() => parseTokenKeys(`${k1.toString('base64')},,${k2.toString('base64')}`), /item 2 is empty/);
    // The same key in base64 and in base64url is still the same key.
    assert.throws(() => parseTokenKeys(`${k1.toString('base64')},${k2.toString('base64')},${k1.toString('base64url')}`), /item 3 repeats item 1/);
  });

  it('generates a development key once, readable by its owner only, and refuses that in production', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bff-keys-'));
    try {
      const first = loadTokenKeys('', dir, false);
      assert.equal(first.generated, true);
      assert.equal(statSync(join(dir, DEV_KEY_FILE)).mode & 0o777, 0o600);
      const again = loadTokenKeys('', dir, false);
      assert.equal(again.generated, false);
      assert.deepEqual(again.keys, first.keys);
      assert.throws(() => loadTokenKeys('', dir, true), /production profile needs BFF_TOKEN_KEYS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a development key that cannot be written (disk full) stops the start saying so and leaves no partial file; written once there is room', (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to mount a small tmpfs');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'bff-keys-full-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      t.skip('cannot mount a tmpfs');
      return;
    }
    const data = join(dir, 'data');
    const filler = join(dir, 'filler');
    try {
      mkdirSync(data);
      // Whatever is left of the volume, taken by another file (dd stops at ENOSPC).
      spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4096']);
      for (let i = 0; i < 3; i++) {
        assert.throws(() => loadTokenKeys('', data, false), (err: Error) => err instanceof DataDirError && err.message === `cannot open the development token key in BFF_DATA_DIR: ${data}: disk full`);
      }
      assert.deepEqual(readdirSync(data), [], 'no draft, no key file left behind');
      rmSync(filler);
      const made = loadTokenKeys('', data, false);
      assert.equal(made.generated, true);
      assert.deepEqual(readdirSync(data), [DEV_KEY_FILE]);
    } finally {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives processes starting at once on a new data directory one and the same development key', async () => {
    // Threads stand for the processes: released together, each loads the keys (nothing is there yet).
    const tries = 20;
    for (let round = 0; round < tries; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'bff-keys-'));
      const go = new Int32Array(new SharedArrayBuffer(4));
      const loaders = Array.from({ length: 4 }, () => new Worker(`
        const { workerData, parentPort } = require('node:worker_threads');
        import(workerData.module).then(({ loadTokenKeys }) => {
          parentPort.postMessage('ready');
          Atomics.wait(workerData.go, 0, 0);
          try {
            const { keys, generated } = loadTokenKeys('', workerData.dir, false);
            parentPort.postMessage({ key: keys[0].toString('base64'), generated });
          } catch (err) {
            parentPort.postMessage({ error: err.message });
          }
        });
      `, { eval: true, workerData: { module: TOKEN_CIPHER_MODULE, dir, go } }));
      const answers = loaders.map((w) => new Promise<Record<string, unknown>>((resolve, reject) => {
        w.on('message', (m) => { if (m !== 'ready') resolve(m as Record<string, unknown>); });
        w.once('error', reject);
      }));
      await Promise.all(loaders.map((w) => new Promise((resolve) => w.once('message', resolve))));
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
      const loaded = await Promise.all(answers);
      await Promise.all(loaders.map((w) => w.terminate()));
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(loaded.filter((l) => l['error']), [], 'a process failed to start');
      assert.equal(new Set(loaded.map((l) => l['key'])).size, 1, 'the processes encrypt with different keys');
      assert.equal(loaded.filter((l) => l['generated']).length, 1);
    }
  });
});

describe('BFF configuration', () => {
  it('defaults to the embedded IdP, the local API, SQLite and a Strict session cookie', () => {
    const config = readBffConfig({});
    assert.equal(config.publicUrl, 'http://localhost:4300');
    assert.equal(config.redirectUri, 'http://localhost:4300/bff/callback');
    assert.equal(config.postLogoutRedirectUri, 'http://localhost:4300/');
    assert.equal(config.BFF_AUTHORITY, 'http://localhost:4400');
    assert.equal(config.BFF_API_URL, 'http://localhost:5001');
    assert.equal(config.BFF_STORE, 'sqlite');
    assert.equal(config.BFF_SESSION_COOKIE_SAMESITE, 'strict');
  });

  it('refuses bad values, naming each, without echoing the secret', () => {
    assert.throws(() => readBffConfig({ BFF_AUTHORITY: 'nope', BFF_STORE: 'memory', BFF_SESSION_IDLE_TTL: '5', BFF_CLIENT_SECRET: '' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 4);
      assert.match(err.problems.join('\n'), /BFF_CLIENT_SECRET is empty/);
      return true;
    });
  });

  it('refuses the development secret, an http public URL and a generated key in production', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bff-prod-'));
    try {
      const base = { BFF_PROFILE: 'production', BFF_DATA_DIR: dir, BFF_SPA_DIST: dir };
      await assert.rejects(buildBff(readBffConfig({ ...base, BFF_PUBLIC_URL: 'https://app.example' })), /development client secret/);
      await assert.rejects(buildBff(readBffConfig({ ...base, BFF_CLIENT_SECRET: 'a-real-secret-of-some-length' })), /https:\/\/ BFF_PUBLIC_URL/);
      await assert.rejects(buildBff(readBffConfig({ ...base, BFF_CLIENT_SECRET: 'a-real-secret-of-some-length', BFF_PUBLIC_URL: 'https://app.example' })), /BFF_TOKEN_KEYS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
