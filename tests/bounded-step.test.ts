// `npm test`'s steps have hang bounds (scripts/bounded-step.ts): a step that outlives its bound is
// named, its whole process tree is killed (a child that ignores SIGTERM, a grandchild that left the
// step's process group included), and the step fails. Bounds here are tiny; nothing waits on a
// fixed delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBoundedStep } from '../scripts/bounded-step.ts';

const node = process.execPath;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed process not yet reaped is a zombie: dead for this purpose.
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls until `pid` is gone; a hang bound, not a timing assertion. */
async function gone(pid: number, boundMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

test('a step that outlives its bound is named, fails, and its whole process tree is killed', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bounded-step-test-'));
  try {
    // The step ignores SIGTERM, starts a child that ignores it too and a grandchild in a process
    // group of its own, writes their pids once both are running, and hangs.
    const hang = 'setInterval(() => {}, 1000)';
    const stubborn = `process.on('SIGTERM', () => {}); ${hang}`;
    const pidsFile = join(dir, 'pids');
    const script = `
      const { spawn } = require('node:child_process');
      const { writeFileSync } = require('node:fs');
      const child = spawn(${JSON.stringify(node)}, ['-e', ${JSON.stringify(stubborn)}], { stdio: 'ignore' });
      const own = spawn(${JSON.stringify(node)}, ['-e', ${JSON.stringify(hang)}], { stdio: 'ignore', detached: true });
      let up = 0;
      for (const p of [child, own]) p.once('spawn', () => { if (++up === 2) writeFileSync(${JSON.stringify(pidsFile)}, child.pid + ' ' + own.pid); });
      ${stubborn}`;
    // A tiny bound, doubled only if a slow machine had not yet started the whole tree by then.
    for (let boundMs = 1_000; ; boundMs *= 2) {
      assert.ok(boundMs <= 64_000, 'the step never started its tree');
      const lines: string[] = [];
      const { ok, timedOut } = await runBoundedStep('the hanging step', node, ['-e', script], { cwd: dir, boundMs, graceMs: 200, stdio: 'ignore', log: (l) => lines.push(l) });
      assert.equal(timedOut, true);
      assert.equal(ok, false);
      assert.deepEqual(lines, [`=== the hanging step: TIMED OUT, still running after its bound of ${Math.round(boundMs / 1000)} s; killing its process tree`]);
      const pids = existsSync(pidsFile) ? readFileSync(pidsFile, 'utf8') : '';
      if (!/^\d+ \d+$/.test(pids)) continue;
      const [child, own] = pids.split(' ').map(Number) as [number, number];
      assert.ok(await gone(child), 'the child that ignores SIGTERM is killed');
      assert.ok(await gone(own), 'the grandchild in a process group of its own is killed');
      break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a step within its bound reports its own result and no time-out', { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const opts = { cwd: tmpdir(), boundMs: 60_000, stdio: 'ignore' as const, log: (l: string) => lines.push(l) };
  assert.deepEqual(await runBoundedStep('passes', node, ['-e', ''], opts), { ok: true, status: 0, signal: null, timedOut: false });
  assert.deepEqual(await runBoundedStep('fails', node, ['-e', 'process.exit(3)'], opts), { ok: false, status: 3, signal: null, timedOut: false });
  assert.deepEqual(lines, []);
});
