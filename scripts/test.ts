// `npm test`: system packages, type check, the SPA's own unit tests, then every node:test file.
// node's test runner goes last so that its summary closes the output.
// Each step has a hang bound of its own (several times its duration on a busy two-core machine,
// together well under CI's 90 minutes): a step that outlives it is named and its process tree killed.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runBoundedStep } from './bounded-step.ts';
import { ensureSystemDeps } from './system-deps.ts';

const root = join(import.meta.dirname, '..');
const MINUTE = 60_000;
/** Measured at nice 19 on the two-core machine: about 50 s. */
const TYPE_CHECK_BOUND_MS = 10 * MINUTE;
/** About 16 s with a warm build cache, a build included; a clean clone has none. */
const SPA_UNIT_TESTS_BOUND_MS = 10 * MINUTE;
/**
 * About 10 minutes on a quiet machine, 22 at nice 19 on one busy with other benchmarks. Each test also
 * has node's own bound (--test-timeout below, or the test's own); this one catches a file that
 * hangs outside any test, and still ends before CI's 90 minutes.
 */
const NODE_TEST_BOUND_MS = 60 * MINUTE;
let failures = 0;

async function step(name: string, cmd: string, args: string[], boundMs: number): Promise<void> {
  console.log(`\n=== ${name}`);
  const result = await runBoundedStep(name, cmd, args, { cwd: root, boundMs });
  if (!result.ok) {
    failures++;
    console.log(`=== ${name}: FAILED`);
  }
}

if (!(await ensureSystemDeps())) failures++;
await step('type check', process.execPath, [join(root, 'scripts', 'typecheck.ts')], TYPE_CHECK_BOUND_MS);
const spaSrc = join(root, 'apps', 'spa', 'src');
const spaHasSpecs = existsSync(spaSrc) && readdirSync(spaSrc, { recursive: true }).some((f) => String(f).endsWith('.spec.ts'));
if (spaHasSpecs) {
  await step('SPA unit tests', 'npm', ['run', 'test', '--workspace', 'apps/spa'], SPA_UNIT_TESTS_BOUND_MS);
}

const patterns = process.argv.length > 2
  ? process.argv.slice(2)
  : ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tests/**/*.test.ts'];
if (failures > 0) console.log(`\n${failures} step(s) before node:test FAILED (see above)`);
console.log('\n=== node:test');
// --test-force-exit: a test file whose tests have all ended exits even if something it opened (a
// server a failed set-up left listening) would keep it alive: a failure is reported, not a hang
// until CI's time runs out. Not there to hide leaks: run one by one without it, every file that
// passes exits on its own; one that does not is a leak to fix (its after hooks).
const run = await runBoundedStep('node:test', process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=180000', '--test-force-exit', ...patterns], {
  cwd: root,
  env: { ...process.env, NODE_ENV: 'test' },
  boundMs: NODE_TEST_BOUND_MS,
});
if (run.timedOut) console.log(`=== node:test: FAILED (timed out)${failures > 0 ? `, and ${failures} step(s) before it` : ''}`);
process.exit(run.ok && failures === 0 ? 0 : 1);
