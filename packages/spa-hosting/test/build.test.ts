// When a build counts as stale: what the production build reads, and nothing else.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isBuildStale } from '../src/build.ts';

const root = mkdtempSync(join(tmpdir(), 'spa-hosting-'));
after(() => rmSync(root, { recursive: true, force: true }));

const BUILT = new Date('2026-01-02T00:00:00Z');
const BEFORE = new Date('2026-01-01T00:00:00Z');
const AFTER = new Date('2026-01-03T00:00:00Z');

/** An app whose sources (and folders) are all older than its build. */
function freshApp(name: string) {
  const appDir = join(root, name);
  const distDir = join(appDir, 'dist');
  mkdirSync(join(appDir, 'src', 'app'), { recursive: true });
  mkdirSync(distDir);
  for (const file of ['src/app/home.ts', 'src/app/home.spec.ts', 'angular.json']) writeFileSync(join(appDir, file), '');
  writeFileSync(join(distDir, 'index.html'), '');
  for (const path of ['src/app/home.ts', 'src/app/home.spec.ts', 'angular.json', 'src/app', 'src']) utimesSync(join(appDir, path), BEFORE, BEFORE);
  utimesSync(join(distDir, 'index.html'), BUILT, BUILT);
  return { appDir, distDir };
}

test('a build newer than every source is not stale', () => {
  assert.equal(isBuildStale(freshApp('fresh')), false);
});

test('a missing build is stale', () => {
  const app = freshApp('missing');
  rmSync(join(app.distDir, 'index.html'));
  assert.equal(isBuildStale(app), true);
});

test('a source edited after the build makes it stale, in a folder or at the top', () => {
  const nested = freshApp('nested');
  utimesSync(join(nested.appDir, 'src/app/home.ts'), AFTER, AFTER);
  assert.equal(isBuildStale(nested), true);
  const top = freshApp('top');
  utimesSync(join(top.appDir, 'angular.json'), AFTER, AFTER);
  assert.equal(isBuildStale(top), true);
});

test('a file added or removed after the build makes it stale (its folder changed)', () => {
  const app = freshApp('added');
  utimesSync(join(app.appDir, 'src/app'), AFTER, AFTER);
  assert.equal(isBuildStale(app), true);
});

test('a unit test edited after the build does not make it stale: the build never reads it', () => {
  const app = freshApp('spec');
  utimesSync(join(app.appDir, 'src/app/home.spec.ts'), AFTER, AFTER);
  assert.equal(isBuildStale(app), false);
});
