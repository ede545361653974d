// Shared by the fault tests (tests/faults): how big a run is, and polling for a positive event.
// `npm test` runs them small; `npm run faults` with FAULTS_FULL=1 runs them bigger. Every wait is
// bounded by a count of polls, never a timing threshold.
import { setTimeout as sleep } from 'node:timers/promises';

export const FULL = process.env['FAULTS_FULL'] === '1';

/** The quick count in `npm test`, the full one under FAULTS_FULL=1. */
export const scale = (quick: number, full: number): number => (FULL ? full : quick);

/** Polls `check` until it holds; fails after `polls` tries. */
export async function until(what: string, check: () => boolean | Promise<boolean>, polls = 600): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`never happened: ${what}`);
}

/** True when /readyz answers 200. */
export const isReady = async (base: string): Promise<boolean> => (await fetch(`${base}/readyz`)).status === 200;
