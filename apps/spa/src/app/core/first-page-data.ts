import { inject, Injectable } from '@angular/core';
import { AuthSession } from '../auth/auth-session';

/**
 * The API call of the page a start-up shows, sent as soon as the session is restored. Otherwise it
 * would wait for the rest of the start-up (bootstrap, the router's first navigation, the first
 * render), none of which it needs: on a return from the IdP that is most of the time between the
 * session and the data on screen. The same request the page would send (`AuthSession.callApi`,
 * the same interceptors); the page takes the answer once, and only before the user navigates
 * (`forget`): every later load asks the API itself.
 */
@Injectable({ providedIn: 'root' })
export class FirstPageData {
  private readonly auth = inject(AuthSession);
  private readonly pending = new Map<string, Promise<unknown>>();

  /** Starts GET `path` (an API path) as the signed-in user; nothing when signed out. */
  start(path: string): void {
    if (!this.auth.isAuthenticated() || this.pending.has(path)) return;
    const answer = this.auth.callApi<unknown>({ path });
    // Whoever takes the answer sees its error; an answer nobody takes is not an unhandled rejection.
    answer.catch(() => {});
    this.pending.set(path, answer);
  }

  /** The answer of the GET started for `path`, once; undefined when none is waiting. */
  take<T>(path: string): Promise<T> | undefined {
    const answer = this.pending.get(path);
    this.pending.delete(path);
    return answer as Promise<T> | undefined;
  }

  /** Drops what nobody took: after an in-app navigation (the app shell calls it), an answer would be stale. */
  forget(): void {
    this.pending.clear();
  }
}
