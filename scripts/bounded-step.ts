// One step of `npm test` run with a time bound of its own: a step that hangs is reported by name
// and its whole process tree is killed, instead of running on until CI's own time limit ends the
// job with no word on which step hung.
import { spawn, type StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface BoundedStepOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** The hang bound: well above the step's normal duration, well below CI's limit. */
  boundMs: number;
  /** How long the tree gets to end on SIGTERM before SIGKILL. */
  graceMs?: number;
  stdio?: StdioOptions;
  log?: (line: string) => void;
}

export interface BoundedStepResult {
  ok: boolean;
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/** Processes whose parent chain leads to `root` (from /proc; empty where there is none). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name before it may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Signals `pid`, its process group and every descendant, plus `known` (descendants seen earlier,
 * which a parent's death has since moved out of the tree).
 */
export function signalTree(pid: number, signal: NodeJS.Signals, known: number[] = []): void {
  // The process group catches descendants whose parent has already died; the walk catches those
  // that started a group of their own (Playwright starts Chromium so).
  const targets = new Set([...known, ...descendants(pid).reverse(), pid]);
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
  for (const target of targets) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

const running = new Set<number>();
let forwarding = false;

/** Ctrl-C or CI's cancel reaches only this process: the steps run in process groups of their own. */
function forwardTerminationSignals(): void {
  if (forwarding) return;
  forwarding = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      for (const pid of running) signalTree(pid, 'SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

export function runBoundedStep(name: string, cmd: string, args: string[], options: BoundedStepOptions): Promise<BoundedStepResult> {
  const { boundMs, graceMs = 10_000, log = console.log } = options;
  forwardTerminationSignals();
  return new Promise((resolve, reject) => {
    // detached: the step leads a process group of its own, so that its whole tree can be signalled.
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: options.stdio ?? ['ignore', 'inherit', 'inherit'], detached: true });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    let tree: number[] = [];
    child.once('error', (err) => {
      clearTimeout(boundTimer);
      reject(err);
    });
    if (child.pid !== undefined) running.add(child.pid);
    const boundTimer = setTimeout(() => {
      timedOut = true;
      log(`=== ${name}: TIMED OUT, still running after its bound of ${Math.round(boundMs / 1000)} s; killing its process tree`);
      tree = descendants(child.pid!);
      signalTree(child.pid!, 'SIGTERM', tree);
      killTimer = setTimeout(() => signalTree(child.pid!, 'SIGKILL', tree), graceMs);
    }, boundMs);
    child.once('exit', (status, signal) => {
      clearTimeout(boundTimer);
      running.delete(child.pid!);
      const done = () => resolve({ ok: !timedOut && status === 0, status, signal, timedOut });
      if (!timedOut) return done();
      // The step's own process ended; whatever it left behind in its tree gets no more grace.
      clearTimeout(killTimer);
      signalTree(child.pid!, 'SIGKILL', tree);
      done();
    });
  });
}
