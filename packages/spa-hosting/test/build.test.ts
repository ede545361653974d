// When a build counts as stale: what the production build reads, and nothing else.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureBuilt, isBuildStale } from '../src/build.ts';

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

test('the build runs without the servers\' secrets: none of the suite\'s settings, nothing named like a secret', () => {
  // An app whose `ng` is a stand-in that writes the environment it was given as the build.
  const app = freshApp('build-environment');
  rmSync(join(app.distDir, 'index.html'));
  const cli = join(app.appDir, 'node_modules', '@angular', 'cli');
  mkdirSync(join(cli, 'bin'), { recursive: true });
  writeFileSync(join(app.appDir, 'package.json'), '{"name":"stand-in"}');
  writeFileSync(join(cli, 'package.json'), '{"name":"@angular/cli","version":"0.0.0"}');
  writeFileSync(join(cli, 'bin', 'ng.js'), `require('node:fs').writeFileSync(${JSON.stringify(join(app.distDir, 'index.html'))}, JSON.stringify(process.env));`);
  const given = {
    BFF_CLIENT_SECRET: 'canary-1', BFF_TOKEN_KEYS: 'canary-2', API_CLIENT_SECRET: 'canary-3', IDP_COOKIE_KEYS: 'canary-4',
    SPA_AUTHORITY: 'canary-5', AUTH_AUDIENCE: 'canary-6', IDP_REDIS_URL: 'canary-7',
    // A client secret the IdP's clients file names (`client_secret_env`), and the CI's own.
    PARTNER_CLIENT_SECRET: 'canary-8', NPM_TOKEN: 'canary-9', DEPLOY_PASSWORD: 'canary-10', SIGNING_KEY: 'canary-11',
  };
  const saved = { ...process.env };
  Object.assign(process.env, given, { NG_BUILD_MAX_WORKERS: '1' });
  try {
    ensureBuilt(app, () => {});
  } finally {
    for (const name of [...Object.keys(given), 'NG_BUILD_MAX_WORKERS']) delete process.env[name];
    Object.assign(process.env, saved);
  }
  const env = JSON.parse(readFileSync(join(app.distDir, 'index.html'), 'utf8')) as Record<string, string>;
  assert.deepEqual(Object.keys(given).filter((name) => name in env), []);
  assert.doesNotMatch(JSON.stringify(env), /canary/);
  assert.equal(env['PATH'], process.env['PATH'], 'the rest of the environment is kept');
  assert.equal(env['NG_BUILD_MAX_WORKERS'], '1');
  assert.equal(env['NG_CLI_ANALYTICS'], 'false');
});
