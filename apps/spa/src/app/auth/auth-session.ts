import type { Signal } from '@angular/core';
import type { Problem } from './problem';

export type AuthStatus = 'initializing' | 'anonymous' | 'authenticated';

export interface AuthUser {
  readonly sub: string;
  readonly name: string;
  readonly email?: string;
  /** Every claim of the ID token (or the BFF's session), for the session page. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface RenewalRecord {
  /** Epoch milliseconds. */
  readonly at: number;
  readonly ok: boolean;
  readonly detail?: string;
}

/** Timing of the current session, in epoch milliseconds (null when unknown). */
export interface SessionDetails {
  readonly scopes: readonly string[];
  readonly loggedInAt: number | null;
  readonly accessTokenIssuedAt: number | null;
  readonly accessTokenExpiresAt: number | null;
  /** When the session will renew itself, ahead of expiry. */
  readonly renewsAt: number | null;
  readonly lastRenewal: RenewalRecord | null;
}

export interface ApiRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the API's base URL, starting with '/'. */
  readonly path: string;
  readonly body?: unknown;
}

/**
 * Everything pages know about authentication. The OIDC implementation keeps tokens in the
 * browser; a Backend-for-Frontend implementation keeps them on the server behind a cookie. Pages
 * depend on this class only, so either can be provided without touching a page.
 */
export abstract class AuthSession {
  abstract readonly status: Signal<AuthStatus>;
  abstract readonly isAuthenticated: Signal<boolean>;
  abstract readonly user: Signal<AuthUser | null>;
  abstract readonly details: Signal<SessionDetails | null>;
  /** A problem of the session as a whole (IdP unreachable, session ended), for the banner. */
  abstract readonly problem: Signal<Problem | null>;

  /** Restores the session at start-up (handles the login callback, refreshes if needed). Never throws. */
  abstract initialize(): Promise<void>;
  /** Sends the browser to the IdP's login page. */
  abstract login(): Promise<void>;
  /** Ends the session everywhere (tokens revoked, IdP session ended) and comes back signed out. */
  abstract logout(): Promise<void>;
  /** Renews the session now instead of shortly before expiry. */
  abstract renew(): Promise<void>;
  /** Calls the API as the signed-in user; fails with ApiError. */
  abstract callApi<T>(request: ApiRequest): Promise<T>;
  abstract dismissProblem(): void;
}
