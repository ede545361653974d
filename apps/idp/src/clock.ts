// Time as a dependency: the IdP, its stores and the login throttle read the time and wait through
// a Clock, so that tests can drive lifetimes and windows with a manual clock instead of sleeping.
import { setTimeout as sleep } from 'node:timers/promises';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
};

/** Whole seconds since the epoch, the unit of every stored expiry. */
export const epochSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000);
