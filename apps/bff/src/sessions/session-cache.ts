// Decrypted sessions kept in memory, so that an API call does not read and decrypt its session
// from the store every time. Coherence comes from the store (see docs/decisions/0016): it names
// every session it changes or ends here (onChange), and before a cached session is used it says
// whether it may have been ended elsewhere (stillCurrent). An entry is only ever added from a read
// that no change overtook (the epoch), so a session ended while it was being read is not cached.
import type { Session } from './session-manager.ts';
import type { SessionStore } from './session-store.ts';

export class SessionCache {
  readonly #entries = new Map<string, Session>();
  readonly #capacity: number;
  #epoch = 0;

  /** `capacity` 0 keeps nothing (every use reads the store). */
  constructor(store: SessionStore, capacity: number) {
    this.#capacity = capacity;
    store.onChange((key) => this.forget(key));
  }

  /** Counts changes heard; pass the value read before a store read to `add`. */
  get epoch(): number {
    return this.#epoch;
  }

  get(key: string): Session | undefined {
    return this.#entries.get(key);
  }

  /** Keeps `session` unless a change was heard since `epoch` (the read may be stale already). */
  add(session: Session, epoch: number): void {
    if (this.#capacity === 0 || epoch !== this.#epoch) return;
    if (this.#entries.size >= this.#capacity) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(session.key, session);
  }

  /** Forgets one session, or every session (null). */
  forget(key: string | null): void {
    this.#epoch++;
    if (key === null) this.#entries.clear();
    else this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
