// Login throttling per username and per client IP. Failures are counted in the store (so they
// survive restarts and are shared by instances); past `slowAfter` each attempt is delayed, past
// the maximum it is refused with 429 until the window ends. A success clears the username's count.
import { setTimeout as sleep } from 'node:timers/promises';
import { LOGIN_THROTTLE } from './defaults.ts';
import type { Store } from './storage/store.ts';

export interface ThrottleLimits {
  maxFailuresPerUser: number;
  maxFailuresPerIp: number;
}

export type ThrottleDecision = { allowed: true; delayMs: number } | { allowed: false; retryAfterSeconds: number };

const userKey = (username: string) => `user:${username.trim().toLowerCase()}`;
const ipKey = (ip: string) => `ip:${ip}`;

export class LoginThrottle {
  readonly #store: Store;
  readonly #limits: ThrottleLimits;
  readonly #window = LOGIN_THROTTLE.windowSeconds;

  constructor(store: Store, limits: ThrottleLimits) {
    this.#store = store;
    this.#limits = limits;
  }

  async check(username: string, ip: string): Promise<ThrottleDecision> {
    const [userFailures, ipFailures] = await Promise.all([
      this.#store.failureCount(userKey(username), this.#window),
      this.#store.failureCount(ipKey(ip), this.#window),
    ]);
    if (userFailures >= this.#limits.maxFailuresPerUser || ipFailures >= this.#limits.maxFailuresPerIp) {
      return { allowed: false, retryAfterSeconds: this.#window };
    }
    const over = Math.max(userFailures, ipFailures) - LOGIN_THROTTLE.slowAfter;
    const delayMs = over < 0 ? 0 : Math.min(LOGIN_THROTTLE.maxDelayMs, LOGIN_THROTTLE.baseDelayMs * 2 ** over);
    return { allowed: true, delayMs };
  }

  async wait(decision: { delayMs: number }): Promise<void> {
    if (decision.delayMs > 0) await sleep(decision.delayMs);
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    await Promise.all([
      this.#store.recordFailure(userKey(username), this.#window),
      this.#store.recordFailure(ipKey(ip), this.#window),
    ]);
  }

  async recordSuccess(username: string): Promise<void> {
    await this.#store.clearFailures(userKey(username));
  }
}
