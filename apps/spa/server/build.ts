// Builds the Angular app when dist is missing or older than its sources, so that a fresh
// checkout runs with `npm ci && npm start` and nobody serves a stale build by accident.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { appDir, distDir } from './paths.ts';
import { precompress } from './precompress.ts';

export { appDir, distDir };

const SOURCES = ['src', 'public', 'angular.json', 'tsconfig.json', 'tsconfig.app.json', 'package.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function isBuildStale(): boolean {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((s) => newestMtime(join(appDir, s)) > built);
}

/**
 * Builds when stale, then writes any missing brotli/gzip copies of the build's files. A build
 * folder that cannot be written to (a read-only deployment) is served as it is, uncompressed.
 */
export function ensureBuilt(log: (line: string) => void): void {
  if (isBuildStale()) build(log);
  try {
    const written = precompress(distDir);
    if (written > 0) log(`wrote ${written} precompressed file(s)`);
  } catch (err) {
    log(`cannot write precompressed copies, serving files uncompressed: ${(err as Error).message}`);
  }
}

function build(log: (line: string) => void): void {
  log('building the Angular app (dist missing or older than src)');
  const ng = createRequire(import.meta.url).resolve('@angular/cli/bin/ng.js');
  const result = spawnSync(process.execPath, [ng, 'build'], {
    cwd: appDir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NG_CLI_ANALYTICS: 'false' },
  });
  if (result.status !== 0) throw new Error('ng build failed');
}
