// The API rows' servers on one core and the load generator on another with util-linux's
// `taskset`, so that a server under load never shares its core with the load generator and a
// sample's CPU per request does not depend on where the scheduler put both (decision 0025).
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where each side runs, or why nothing is pinned. */
export type PinningPlan =
  | { pinned: true; taskset: string; serverCpus: string; loadCpus: string; allCpus: string }
  | { pinned: false; reason: string };

/**
 * The plan for a machine: servers on the first core, the load generator on the second. Nothing
 * is pinned when it was not asked for (`--no-pin`), without `taskset`, or on one core (nothing to separate).
 */
export function pinningPlan(opts: { requested: boolean; cores: number; taskset: string | undefined }): PinningPlan {
  if (!opts.requested) return { pinned: false, reason: 'servers and load generator not pinned to cores (--no-pin)' };
  if (!opts.taskset) return { pinned: false, reason: 'not pinned: taskset (util-linux) is not installed' };
  if (opts.cores < 2) return { pinned: false, reason: `not pinned: ${opts.cores} core, nothing to separate the load generator from` };
  return { pinned: true, taskset: opts.taskset, serverCpus: '0', loadCpus: '1', allCpus: `0-${opts.cores - 1}` };
}

/** The first executable `name` on PATH, as `command -v` finds it. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Moves a started server, every thread of it, onto the servers' core; threads it starts later
 * inherit that. Done once it answers its health check, so that start-ups still use every core.
 */
export function pinServer(plan: PinningPlan, pid: number): void {
  if (plan.pinned) execFileSync(plan.taskset, ['-a', '-p', '-c', plan.serverCpus, String(pid)], { stdio: 'ignore' });
}

/** What the method line says about pinning. */
export function pinningText(plan: PinningPlan): string {
  return plan.pinned
    ? `each API-row server pinned to core ${plan.serverCpus} and the load generator to core ${plan.loadCpus} while those rows run (taskset)`
    : plan.reason;
}

/**
 * Moves this process (every thread: autocannon runs on the main one) onto the load generator's
 * core, or back onto every core, when that is not where it already is. The other rows (the IdP's
 * clients, the BFF's and Apache's, the browser) run unpinned, as before.
 */
export function loadGeneratorAffinity(plan: PinningPlan): (pinned: boolean) => void {
  let current = false;
  return (pinned) => {
    if (!plan.pinned || pinned === current) return;
    execFileSync(plan.taskset, ['-a', '-p', '-c', pinned ? plan.loadCpus : plan.allCpus, String(process.pid)], { stdio: 'ignore' });
    current = pinned;
  };
}
