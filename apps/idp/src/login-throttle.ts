// Login throttling (docs/decisions/0005-login-throttling.md). Each attempt is reserved in the store
// before its password is checked, atomically against three counters in one window:
// - username + client address: a hard limit, so one address cannot guess one password for long;
// - client address: a hard limit across usernames, against spraying one password over many users;
// - username alone: no limit, only a growing delay, so an attacker elsewhere slows a user's
//   attempts down but can never lock the user out of her own address.
// A success gives the attempt back and clears the username's counts. Counts live in the store:
// they survive restarts and are shared by instances. The address counted is the client's in one
// spelling, an IPv6 client's by its network (client-address.ts, decision 0036), and the username
// by the key the login looks it up by (users.ts usernameKey, decision 0045).
import { countedAddress } from './client-address.ts';
import type { Clock } from './clock.ts';
import type { Store } from './storage/store.ts';
import { usernameKey } from './users.ts';

export interface ThrottleSettings {
  windowSeconds: number;
  maxFailuresPerUserAndIp: number;
  maxFailuresPerIp: number;
  slowAfter: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** IPv6 clients are counted by their network of this many leading bits. */
  ipv6PrefixBits: number;
}

export type ThrottleDecision = { allowed: true; delayMs: number } | { allowed: false; retryAfterSeconds: number };

function keys(username: string, ip: string, ipv6PrefixBits: number) {
  const address = countedAddress(ip, ipv6PrefixBits);
  const user = usernameKey(username);
  return { userAndIp: `user-ip:${user}|${address}`, ip: `ip:${address}`, user: `user:${user}` };
}

export class LoginThrottle {
  readonly #store: Store;
  readonly #settings: ThrottleSettings;
  readonly #clock: Clock;

  constructor(store: Store, settings: ThrottleSettings, clock: Clock) {
    this.#store = store;
    this.#settings = settings;
    this.#clock = clock;
  }

  /** Counts this attempt as a failure until `succeeded` says otherwise; refuses it past a limit. */
  async reserve(username: string, ip: string): Promise<ThrottleDecision> {
    const s = this.#settings;
    const k = keys(username, ip, this.#settings.ipv6PrefixBits);
    const reservation = await this.#store.reserveAttempt([
      { key: k.userAndIp, limit: s.maxFailuresPerUserAndIp },
      { key: k.ip, limit: s.maxFailuresPerIp },
      { key: k.user },
    ], s.windowSeconds);
    if (!reservation.granted) return { allowed: false, retryAfterSeconds: reservation.retryAfterSeconds };
    const earlierFailures = reservation.counts[2]! - 1;
    const over = earlierFailures - s.slowAfter;
    return { allowed: true, delayMs: over < 0 ? 0 : Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** over) };
  }

  async wait(decision: { delayMs: number }): Promise<void> {
    if (decision.delayMs > 0) await this.#clock.sleep(decision.delayMs);
  }

  async succeeded(username: string, ip: string): Promise<void> {
    const k = keys(username, ip, this.#settings.ipv6PrefixBits);
    await Promise.all([this.#store.clearAttempts(k.userAndIp), this.#store.clearAttempts(k.user), this.#store.releaseAttempt(k.ip)]);
  }
}
