// The stand-in Router (src/app/routing/library-router.ts) gives angular-auth-oidc-client only
// `navigateByUrl` (decision 0029), and the build replaces @angular/router itself by a module that
// exports only the `Router` class (src/app/routing/angular-router-stand-in.mjs, decision 0030). This
// reads the installed library and fails when a version of it imports anything else from the router
// or uses any other part of the Router outside the auto-login guards, which the app does not use:
// an upgrade must then revisit the stand-ins instead of failing at build or run time.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const appDir = join(import.meta.dirname, '..');
const require = createRequire(join(appDir, 'package.json'));
const libraryDir = dirname(require.resolve('angular-auth-oidc-client/package.json'));
const bundle = readFileSync(join(libraryDir, 'fesm2022', 'angular-auth-oidc-client.mjs'), 'utf8');
const STAND_IN = 'src/app/routing/angular-router-stand-in.mjs';
const PROVIDED = new Set(['navigateByUrl']);
/** Members of the Router only the library's auto-login guards use. */
const GUARDS_ONLY = new Set(['currentNavigation', 'url']);
const GUARDS = ['AutoLoginAllRoutesGuard', 'AutoLoginPartialRoutesGuard', 'autoLoginPartialRoutesGuard'];

/** The library's code with the auto-login guards (classes and functions) cut out. */
function withoutGuards(code: string): string {
  let rest = code;
  for (const name of GUARDS) {
    const start = rest.search(new RegExp(`^(?:class|function) ${name}\\b`, 'm'));
    assert.ok(start >= 0, `the library defines ${name}`);
    const end = rest.slice(start + 1).search(/^(?:class|function|const|let|var) /m);
    rest = rest.slice(0, start) + rest.slice(start + 1 + end);
  }
  return rest;
}

test('outside its auto-login guards, the library uses nothing of the Router but navigateByUrl', () => {
  const code = withoutGuards(bundle);
  const used = new Set([...code.matchAll(/\brouter\s*(?:\.\s*|\?\.\s*)(\w+)/g)].map((m) => m[1]!));
  assert.ok(used.has('navigateByUrl'), 'the scan finds the library\'s navigations');
  assert.deepEqual([...used].filter((member) => !PROVIDED.has(member)), []);
  // Every other mention of a router is where the library injects it: no aliasing, no passing it on.
  const mentions = [...code.matchAll(/\brouter\b(?!\s*(?:\.|\?\.))/g)].map((m) => code.slice(m.index, m.index + 30));
  for (const mention of mentions) assert.match(mention, /^router = inject\(Router\)|^router'/, `an unexpected use of the router: ${mention}`);
});

test('the guards that use more of the Router are not used by the app', () => {
  const src = join(import.meta.dirname, '..', 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
  assert.ok(files.length > 10);
  for (const file of files) {
    const text = readFileSync(join(src, file), 'utf8');
    for (const guard of GUARDS) assert.ok(!text.includes(guard), `${file} uses ${guard}, whose Router members the stand-in lacks`);
  }
  assert.ok([...bundle.matchAll(/\brouter\s*(?:\.|\?\.)\s*(\w+)/g)].some((m) => GUARDS_ONLY.has(m[1]!)), 'the guards still read the Router');
});

/**
 * The names `code` imports or re-exports from `specifier` (or a subpath of it). `*` stands for a
 * default or namespace import, a bare import, `export *` and a dynamic import: the whole module.
 */
function namesImportedFrom(code: string, specifier: string): string[] {
  const from = String.raw`\s*['"]${specifier.replaceAll('/', '\\/')}(?:\/[^'"]*)?['"]`;
  const names: string[] = [];
  for (const [, clause] of code.matchAll(new RegExp(String.raw`\b(?:import|export)\s+(?:type\s+)?([^;'"]*?)\s*from${from}`, 'g'))) {
    const braces = clause!.match(/\{([^}]*)\}/);
    for (const part of braces?.[1]!.split(',') ?? []) if (part.trim()) names.push(part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!);
    if (clause!.replace(/\{[^}]*\}/, '').replace(/,/g, '').trim() !== '') names.push('*');
  }
  if (new RegExp(String.raw`\bimport\s*(?:\(\s*)?${from}`).test(code)) names.push('*');
  return names;
}

test('the library imports nothing from @angular/router but the Router class, which the build\'s stand-in exports', async () => {
  assert.deepEqual(namesImportedFrom(bundle, '@angular/router'), ['Router']);
  const standIn = await import(pathToFileURL(join(appDir, STAND_IN)).href);
  assert.deepEqual(Object.keys(standIn), ['Router']);
});

test('the build replaces the very file the library\'s @angular/router import resolves to', () => {
  const build = JSON.parse(readFileSync(join(appDir, 'angular.json'), 'utf8')).projects.spa.architect.build.options;
  const routerEntry = createRequire(join(libraryDir, 'package.json')).resolve('@angular/router');
  assert.deepEqual(
    build.fileReplacements.map((r: { replace: string; with: string }) => [resolve(appDir, r.replace), r.with]),
    [[routerEntry, STAND_IN]],
  );
});

test('the app\'s own code imports nothing from @angular/router that the stand-in lacks', () => {
  const src = join(appDir, 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
  const imported = files.flatMap((file) => namesImportedFrom(readFileSync(join(src, file), 'utf8'), '@angular/router'));
  assert.deepEqual([...new Set(imported)], ['Router']);
});
