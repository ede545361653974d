// `npm test`: system packages, type check, the SPA's own unit tests, then every node:test file.
// node's test runner goes last so that its summary closes the output.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSystemDeps } from './system-deps.ts';

const root = join(import.meta.dirname, '..');
let failures = 0;

function step(name: string, cmd: string, args: string[]): void {
  console.log(`\n=== ${name}`);
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    failures++;
    console.log(`=== ${name}: FAILED`);
  }
}

if (!ensureSystemDeps()) failures++;
step('type check', process.execPath, [join(root, 'scripts', 'typecheck.ts')]);
const spaSrc = join(root, 'apps', 'spa', 'src');
const spaHasSpecs = existsSync(spaSrc) && readdirSync(spaSrc, { recursive: true }).some((f) => String(f).endsWith('.spec.ts'));
if (spaHasSpecs) {
  step('SPA unit tests', 'npm', ['run', 'test', '--workspace', 'apps/spa']);
}

const patterns = process.argv.length > 2
  ? process.argv.slice(2)
  : ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tests/**/*.test.ts'];
if (failures > 0) console.log(`\n${failures} step(s) before node:test FAILED (see above)`);
console.log('\n=== node:test');
// --test-force-exit: a test file whose tests have all ended exits even if something it opened (a
// server a failed set-up left listening) would keep it alive: a failure is reported, not a hang
// until CI's time runs out.
const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=180000', '--test-force-exit', ...patterns], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'test' },
});
process.exit(run.status === 0 && failures === 0 ? 0 : 1);
