import { InjectionToken } from '@angular/core';

/**
 * How the tabs of one browser tell each other whom the BFF's session belongs to. The session
 * cookie is the browser's, shared by all its tabs: a sign-in (as anyone) or a sign-out in one tab
 * changes the session every other tab calls with, and no storage event says so. Each tab says
 * whom it found signed in (a `sub`, or null for nobody) whenever that changes; a tab that hears a
 * different answer than its own asks the BFF again (`GET /bff/user`) and follows.
 */
export interface BffSessionChannel {
  /** Tells the other tabs: this browser's session is now `sub`'s (null: signed out). */
  announce(sub: string | null): void;
  /** Calls `heard` with what another tab announced; returns how to stop listening. */
  listen(heard: (sub: string | null) => void): () => void;
}

/** The channel's name; one per origin, as BroadcastChannel is. */
export const BFF_SESSION_CHANNEL_NAME = 'spa.bff-session';

export const BFF_SESSION_CHANNEL = new InjectionToken<BffSessionChannel | null>('BFF_SESSION_CHANNEL', {
  providedIn: 'root',
  factory: () => broadcastSessionChannel(),
});

/** Over BroadcastChannel (every tab of this origin); null where the browser has none. */
export function broadcastSessionChannel(): BffSessionChannel | null {
  if (typeof BroadcastChannel === 'undefined') return null;
  const channel = new BroadcastChannel(BFF_SESSION_CHANNEL_NAME);
  return {
    announce: (sub) => channel.postMessage({ sub }),
    listen: (heard) => {
      const onMessage = (event: MessageEvent<unknown>) => {
        const sub = (event.data as { sub?: unknown } | null)?.sub;
        if (sub === null || (typeof sub === 'string' && sub !== '')) heard(sub);
      };
      channel.addEventListener('message', onMessage);
      return () => channel.removeEventListener('message', onMessage);
    },
  };
}
