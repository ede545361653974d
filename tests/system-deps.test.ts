// `npm test` installs the Debian packages it lacks with apt-get when run as root
// (scripts/system-deps.ts), each apt-get command under a hang bound like the other steps: a stalled
// apt-get is named, its process tree killed, and the run says what to install by hand. apt-get here
// is a stand-in script; nothing is installed. Bounds are tiny; nothing waits on a fixed delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureSystemDeps } from '../scripts/system-deps.ts';

/** A stand-in for apt-get: records each call (its arguments and pid), then runs `then` (JavaScript). */
function standIn(dir: string, then: string): { script: string; calls: () => Array<{ args: string[]; pid: number }> } {
  const callsFile = join(dir, 'calls');
  const script = join(dir, 'apt-get.mjs');
  writeFileSync(script, `
    import { appendFileSync, writeFileSync } from 'node:fs';
    const args = process.argv.slice(2);
    appendFileSync(${JSON.stringify(callsFile)}, JSON.stringify({ args, pid: process.pid }) + '\\n');
    ${then}
  `);
  const calls = () => existsSync(callsFile) ? readFileSync(callsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { args: string[]; pid: number }) : [];
  return { script, calls };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('as root, an apt-get that hangs is named at its bound, killed, and the run says what to install by hand', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'system-deps-test-'));
  try {
    const aptGet = standIn(dir, 'setInterval(() => {}, 1000);');
    // A tiny bound, doubled only if a slow machine had not even started the stand-in by then.
    for (let boundMs = 1_000; ; boundMs *= 2) {
      assert.ok(boundMs <= 64_000, 'the stand-in never started');
      const lines: string[] = [];
      const ok = await ensureSystemDeps({
        deps: [{ pkg: 'some-package', binary: join(dir, 'some-binary'), why: 'a test' }],
        isRoot: true,
        aptGet: [process.execPath, aptGet.script],
        boundsMs: { update: boundMs, install: boundMs },
        log: (l) => lines.push(l),
        error: (l) => lines.push(l),
      });
      assert.equal(ok, false);
      assert.deepEqual(lines, [
        'Installing Debian packages: some-package',
        `=== apt-get update: TIMED OUT, still running after its bound of ${boundMs / 1000} s; killing its process tree`,
        `Could not install some-package: apt-get update did not finish within its bound of ${boundMs / 1000} s. Install them by hand: sudo apt-get update && sudo apt-get install -y some-package`,
      ]);
      const calls = aptGet.calls();
      if (calls.length === 0) continue;
      assert.deepEqual(calls.map((c) => c.args), [['update']], 'no install after the update failed');
      // It had started, and it is gone: nothing is left waiting on a mirror.
      const deadline = Date.now() + 30_000;
      while (alive(calls[0]!.pid) && Date.now() < deadline) await sleep(20);
      assert.ok(!alive(calls[0]!.pid), 'the hanging apt-get is killed');
      break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('as root, apt-get update then install of what is missing, and the binaries are there afterwards', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'system-deps-test-'));
  try {
    const binary = join(dir, 'some-binary');
    const aptGet = standIn(dir, `if (args[0] === 'install') writeFileSync(${JSON.stringify(binary)}, '');`);
    const present = join(dir, 'present');
    writeFileSync(present, '');
    const ok = await ensureSystemDeps({
      deps: [{ pkg: 'some-package', binary, why: 'a test' }, { pkg: 'installed-already', binary: present, why: 'a test' }],
      isRoot: true,
      aptGet: [process.execPath, aptGet.script],
      boundsMs: { update: 60_000, install: 60_000 },
      log: () => {},
      error: (l) => assert.fail(l),
    });
    assert.equal(ok, true);
    assert.deepEqual(aptGet.calls().map((c) => c.args), [['update'], ['install', '-y', '--no-install-recommends', 'some-package']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('not root: nothing runs, and the run says what to install', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'system-deps-test-'));
  try {
    const aptGet = standIn(dir, '');
    const lines: string[] = [];
    const ok = await ensureSystemDeps({
      deps: [{ pkg: 'some-package', binary: join(dir, 'some-binary'), why: 'a test' }],
      isRoot: false,
      aptGet: [process.execPath, aptGet.script],
      error: (l) => lines.push(l),
    });
    assert.equal(ok, false);
    assert.deepEqual(lines, ['Missing Debian packages: some-package.\nInstall them with: sudo apt-get update && sudo apt-get install -y some-package']);
    assert.deepEqual(aptGet.calls(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
