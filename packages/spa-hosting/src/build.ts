// Builds the Angular app when its build is missing or older than its sources, so that a fresh
// checkout runs with `npm ci && npm start` and nobody serves a stale build by accident. The SPA's
// server and the BFF serve the same build and start at the same time: a lock directory makes the
// second one wait for the first one's build instead of running a second `ng build` into the same
// folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { precompress } from './precompress.ts';

const SOURCES = ['src', 'public', 'angular.json', 'tsconfig.json', 'tsconfig.app.json', 'package.json'];
/** A lock older than this was left by a builder that died: taken over. */
const STALE_LOCK_MS = 10 * 60_000;
const LOCK_POLL_MS = 250;

export interface AngularApp {
  /** The Angular project folder (angular.json). */
  appDir: string;
  /** Its build output (index.html). */
  distDir: string;
}

/** Unit tests beside the code: never part of the production build, so editing one does not make it stale. */
const NOT_BUILT = /\.spec\.ts$/;

/** The newest modification time of the files under `path` that the build reads (0 when absent). */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return NOT_BUILT.test(path) ? 0 : stat.mtimeMs;
  // A folder's own time changes when an entry is added, renamed or removed.
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function isBuildStale({ appDir, distDir }: AngularApp): boolean {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((s) => newestMtime(join(appDir, s)) > built);
}

/**
 * Builds when stale, then writes any missing brotli/gzip copies of the build's files. A build
 * folder that cannot be written to (a read-only deployment) is served as it is, uncompressed.
 */
export function ensureBuilt(app: AngularApp, log: (line: string) => void): void {
  if (!isBuildStale(app)) return writeCompressedCopies(app, log);
  withBuildLock(app, log, () => {
    // Another server may have built while this one waited for the lock.
    if (isBuildStale(app)) build(app, log);
    writeCompressedCopies(app, log);
  });
}

function writeCompressedCopies({ distDir }: AngularApp, log: (line: string) => void): void {
  try {
    const written = precompress(distDir);
    if (written > 0) log(`wrote ${written} precompressed file(s)`);
  } catch (err) {
    log(`cannot write precompressed copies, serving files uncompressed: ${(err as Error).message}`);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withBuildLock(app: AngularApp, log: (line: string) => void, fn: () => void): void {
  // In <app>/dist, beside the build's output folder (dist/<project>), which `ng build` deletes and
  // writes again: a lock inside it would vanish while the build runs.
  const lock = join(app.appDir, 'dist', '.build-lock');
  mkdirSync(dirname(lock), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = statSync(lock, { throwIfNoEntry: false });
      if (!held) continue;
      if (Date.now() - held.mtimeMs > STALE_LOCK_MS) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!announced) log('waiting for another server to finish building the Angular app');
      announced = true;
      sleepSync(LOCK_POLL_MS);
    }
  }
  try {
    fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The suite's own settings (apps' prefixes), and any variable named like a secret. */
const NOT_FOR_THE_BUILD = /^(IDP|API|AUTH|BFF|SPA)_|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEYS?$/i;

/**
 * The environment `ng build` runs in: the server's own, without the suite's settings and any
 * variable named like a secret. The servers get client secrets, token and cookie keys from the
 * environment (`npm start` gives every app all of them), and the build runs third-party tooling
 * whose output is public: nothing of the server's may reach it (the SPA's settings come at run
 * time, from the runtime configuration).
 */
export function buildEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(env).filter(([name]) => !NOT_FOR_THE_BUILD.test(name))), NG_CLI_ANALYTICS: 'false' };
}

function build({ appDir }: AngularApp, log: (line: string) => void): void {
  log('building the Angular app (dist missing or older than src)');
  const ng = createRequire(join(appDir, 'package.json')).resolve('@angular/cli/bin/ng.js');
  const result = spawnSync(process.execPath, [ng, 'build'], {
    cwd: appDir,
    // The build's progress is a log: on stderr, so a caller's stdout (the bench's report) stays its own.
    stdio: ['ignore', 2, 'inherit'],
    env: buildEnvironment(process.env),
  });
  if (result.status !== 0) throw new Error('ng build failed');
}
