// Debian packages the test suite needs (a real browser, a real Redis). As root on a machine that
// lacks them they are installed with apt-get; otherwise we say exactly what to install.
// apt-get runs with a hang bound per command, like `npm test`'s other steps (./bounded-step.ts): a
// stalled mirror or a held dpkg lock is named and its process tree killed, and the run goes on to
// say what to install by hand instead of waiting until CI's own limit. (CI's `.ci/run` installs
// them before `npm test`, so there this never waits on a mirror.)
import { existsSync } from 'node:fs';
import { runBoundedStep } from './bounded-step.ts';

export interface SystemDep {
  pkg: string;
  binary: string;
  why: string;
}

export const systemDeps: SystemDep[] = [
  { pkg: 'chromium', binary: '/usr/bin/chromium', why: 'end-to-end tests in a real browser' },
  { pkg: 'redis-server', binary: '/usr/bin/redis-server', why: 'the Redis adapter for scaled-out IdPs' },
];

const MINUTE = 60_000;

/** Hang bounds of the two apt-get commands: normally seconds, and 1-3 minutes for the browser's download. */
export const APT_GET_BOUNDS_MS = { update: 5 * MINUTE, install: 15 * MINUTE };

export interface SystemDepsOptions {
  deps?: readonly SystemDep[];
  isRoot?: boolean;
  /** The apt-get command (a test gives a stand-in). */
  aptGet?: readonly string[];
  boundsMs?: { update: number; install: number };
  log?: (line: string) => void;
  error?: (line: string) => void;
}

function minutes(ms: number): string {
  return ms >= MINUTE ? `${ms / MINUTE} min` : `${ms / 1000} s`;
}

export async function ensureSystemDeps(options: SystemDepsOptions = {}): Promise<boolean> {
  const { deps = systemDeps, isRoot = process.getuid?.() === 0, aptGet = ['apt-get'], boundsMs = APT_GET_BOUNDS_MS, log = console.log, error = console.error } = options;
  const missing = deps.filter((d) => !existsSync(d.binary));
  if (missing.length === 0) return true;
  const names = missing.map((d) => d.pkg);
  const byHand = `sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`;
  if (!isRoot) {
    error(`Missing Debian packages: ${names.join(' ')}.\nInstall them with: ${byHand}`);
    return false;
  }
  log(`Installing Debian packages: ${names.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...prefix] = aptGet as [string, ...string[]];
  const steps = [
    { name: 'apt-get update', args: ['update'], boundMs: boundsMs.update },
    { name: 'apt-get install', args: ['install', '-y', '--no-install-recommends', ...names], boundMs: boundsMs.install },
  ];
  for (const step of steps) {
    let why: string | undefined;
    try {
      const result = await runBoundedStep(step.name, cmd, [...prefix, ...step.args], { cwd: process.cwd(), env, boundMs: step.boundMs, log });
      if (result.timedOut) why = `${step.name} did not finish within its bound of ${minutes(step.boundMs)}`;
      else if (!result.ok) why = `${step.name} failed (${result.status ?? result.signal})`;
    } catch (err) {
      why = `${step.name} could not run (${(err as Error).message})`;
    }
    if (why) {
      error(`Could not install ${names.join(' ')}: ${why}. Install them by hand: ${byHand}`);
      return false;
    }
  }
  const still = missing.filter((d) => !existsSync(d.binary));
  if (still.length > 0) {
    error(`apt-get installed ${names.join(' ')}, but ${still.map((d) => d.binary).join(' ')} is still missing; install by hand: ${byHand}`);
    return false;
  }
  return true;
}
