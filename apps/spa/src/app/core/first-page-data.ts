import { inject, Injectable } from '@angular/core';
import { AuthSession } from '../auth/auth-session';

/**
 * The API call of the page a start-up shows, sent as soon as the session is restored. Otherwise it
 * would wait for the rest of the start-up (bootstrap, the outlet's first page, the first
 * render), none of which it needs: on a return from the IdP that is most of the time between the
 * session and the data on screen. The same request the page would send (`AuthSession.callApi`,
 * the same interceptors); the page takes the answer once, and only before the user navigates
 * (`forget`): every later load asks the API itself.
 */
/** A settled answer: its value, or the error the call failed with. */
export type PageDataOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

interface Pending {
  readonly answer: Promise<unknown>;
  outcome?: PageDataOutcome<unknown>;
}

@Injectable({ providedIn: 'root' })
export class FirstPageData {
  private readonly auth = inject(AuthSession);
  private readonly pending = new Map<string, Pending>();

  /** Starts GET `path` (an API path) as the signed-in user; nothing when signed out. */
  start(path: string): void {
    if (!this.auth.isAuthenticated() || this.pending.has(path)) return;
    const pending: Pending = { answer: this.auth.callApi<unknown>({ path }) };
    // Whoever takes the answer sees its error; an answer nobody takes is not an unhandled rejection.
    pending.answer.then((value) => (pending.outcome = { ok: true, value }), (error: unknown) => (pending.outcome = { ok: false, error }));
    this.pending.set(path, pending);
  }

  /** The answer of the GET started for `path`, once; undefined when none is waiting. */
  take<T>(path: string): Promise<T> | undefined {
    const pending = this.pending.get(path);
    this.pending.delete(path);
    return pending?.answer as Promise<T> | undefined;
  }

  /**
   * The answer of the GET started for `path`, once, if it has already arrived: a page shows it in
   * its first render, where awaiting the promise would render it one change detection later
   * (a frame, on a return from the IdP). Undefined, and still waiting to be taken, otherwise.
   */
  takeSettled<T>(path: string): PageDataOutcome<T> | undefined {
    const outcome = this.pending.get(path)?.outcome;
    if (outcome) this.pending.delete(path);
    return outcome as PageDataOutcome<T> | undefined;
  }

  /** Drops what nobody took: after an in-app navigation (the app shell calls it), an answer would be stale. */
  forget(): void {
    this.pending.clear();
  }
}
