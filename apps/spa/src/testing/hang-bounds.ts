// Run before every spec (angular.json, test target's setupFiles). The specs wait for asynchronous
// settling (a signal, a rendered page, a request the code under test sends) with vi.waitFor, whose
// own default gives up after 1 s, and Vitest ends a test after 5 s: a busy machine can take longer
// than either without anything being wrong. Both are hang bounds, not timing assertions, so they
// are raised for every spec here; a spec that passes its own timeout keeps it.
import { vi } from 'vitest';

/** How long vi.waitFor keeps retrying by default. */
export const WAIT_FOR_BOUND_MS = 30_000;

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const waitFor = vi.waitFor.bind(vi);
vi.waitFor = ((callback, options) =>
  waitFor(callback, typeof options === 'number' ? options : { timeout: WAIT_FOR_BOUND_MS, ...options })) as typeof vi.waitFor;
