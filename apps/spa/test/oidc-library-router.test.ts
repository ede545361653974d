// The stand-in Router (src/app/routing/library-router.ts) gives angular-auth-oidc-client only
// `navigateByUrl` (decision 0029). This reads the installed library and fails when a version of it
// uses any other part of the Router outside the auto-login guards, which the app does not use: an
// upgrade must then revisit the stand-in instead of failing at run time on a path the tests miss.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

const require = createRequire(join(import.meta.dirname, '..', 'package.json'));
const libraryDir = dirname(require.resolve('angular-auth-oidc-client/package.json'));
const bundle = readFileSync(join(libraryDir, 'fesm2022', 'angular-auth-oidc-client.mjs'), 'utf8');
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
