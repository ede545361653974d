// Every app with a data directory (IdP, API, BFF) stops its start, before listening, with exit
// code 2 and one line naming the variable, the path and the cause when that directory cannot be
// used: a file where the directory should be, a database file that is not one, a read-only volume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectLines } from './support/idp-process.ts';

const root = join(import.meta.dirname, '..');

interface App {
  variable: string;
  file: string;
  /** What the message says it could not open. */
  what: RegExp;
  env(dir: string): Record<string, string>;
  server: string;
}

const apps: App[] = [
  { variable: 'IDP_DATA_DIR', file: 'idp.sqlite', what: /the SQLite store/, server: 'apps/idp/src/server.ts', env: () => ({ IDP_PORT: '0', IDP_ISSUER: 'http://localhost:4400' }) },
  { variable: 'API_DATA_DIR', file: 'notes.sqlite', what: /the notes database/, server: 'apps/api/src/server.ts', env: () => ({ API_PORT: '0', AUTH_AUTHORITY: 'http://127.0.0.1:9' }) },
  {
    variable: 'BFF_DATA_DIR', file: 'bff.sqlite', what: /the (session database|development token key)/, server: 'apps/bff/src/server.ts',
    env(dir) {
      // A stand-in build with no sources: never stale, so nothing is built.
      const dist = join(dir, 'app', 'dist', 'spa', 'browser');
      mkdirSync(dist, { recursive: true });
      writeFileSync(join(dist, 'index.html'), '<!doctype html><title>stand-in</title>');
      return { BFF_PORT: '0', BFF_PUBLIC_URL: 'http://localhost:4300', BFF_AUTHORITY: 'http://127.0.0.1:9', BFF_SPA_DIST: dist };
    },
  },
];

async function startExpectingFailure(app: App, scratch: string, dataDir: string): Promise<{ code: number | null; output: string }> {
  const env = { ...process.env, ...app.env(scratch), [app.variable]: dataDir };
  const child = spawn(process.execPath, [join(root, app.server)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  collectLines(child.stdout, lines);
  collectLines(child.stderr, lines);
  // A hang guard only: the refusal comes at start-up.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(guard);
  return { code, output: lines.join('\n') };
}

function assertRefused(app: App, result: { code: number | null; output: string }, path: string, cause: string): void {
  assert.equal(result.code, 2, result.output);
  assert.match(result.output, new RegExp(`cannot start: cannot open ${app.what.source} in ${app.variable}: ${path}: ${cause}`), result.output);
  assert.doesNotMatch(result.output, /"listening"|\n\s+at |node:internal/, 'no listening, no stack trace');
}

for (const app of apps) {
  test(`${app.variable}: a file where the directory should be, and a database file that is not one, stop the start`, async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'data-dir-start-'));
    try {
      const file = join(scratch, 'a-file');
      writeFileSync(file, 'not a directory');
      assertRefused(app, await startExpectingFailure(app, scratch, file), file, 'not a directory');

      const corrupt = join(scratch, 'corrupt');
      mkdirSync(corrupt);
      writeFileSync(join(corrupt, app.file), Buffer.alloc(8192, 'x'));
      // The BFF generates its development key first, then opens the database.
      assertRefused(app, await startExpectingFailure(app, scratch, corrupt), corrupt, 'file is not a database');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
}

test('a read-only data directory stops the API and the BFF with their path and the cause', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'data-dir-ro-'));
  const dir = join(scratch, 'ro');
  mkdirSync(dir);
  const asRoot = process.getuid?.() === 0;
  // root writes through file modes: a read-only mount is needed, else the directory's mode does it.
  if (asRoot && spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]).status !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    t.skip('cannot mount a read-only tmpfs');
    return;
  }
  if (!asRoot) spawnSync('chmod', ['500', dir]);
  try {
    for (const app of apps.slice(1)) {
      const data = join(dir, 'data');
      assertRefused(app, await startExpectingFailure(app, scratch, data), data, asRoot ? 'read-only file system' : 'permission denied');
    }
  } finally {
    if (asRoot) spawnSync('umount', [dir]);
    rmSync(scratch, { recursive: true, force: true });
  }
});
