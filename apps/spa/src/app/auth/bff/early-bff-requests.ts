import { InjectionToken } from '@angular/core';
import { earlyRequest, type EarlyRequest } from '../early-request';
import { BFF_PATHS } from './bff-paths';

/**
 * In BFF mode neither the session nor the start-up page's data needs Angular: `GET /bff/user`
 * and the page's API call leave as soon as the main bundle runs, side by side (the API call does
 * not wait for the session: without one the BFF answers 401, which nobody takes), instead of
 * after the bootstrap and, for the API call, after the session's answer.
 * `BffHttp` hands each answer, once, to the app's own identical GET
 * (`BffAuthSession.initialize`, then `FirstPageData`), so every answer goes through the same
 * code as a request of the app's own: a 401 from `/bff/user` is "signed out", one from the API
 * "the session has ended". Both carry `X-CSRF: 1`, like every call of the app.
 */
export interface EarlyBffRequests {
  readonly user: EarlyRequest;
  /** The start-up page's API call, for as long as it may still be taken. */
  pageData: EarlyRequest | null;
}

export const EARLY_BFF_REQUESTS = new InjectionToken<EarlyBffRequests>('EARLY_BFF_REQUESTS');

/** Sends `GET /bff/user` and, when the start-up page has one, its API call (`pageApiPath`, on this origin). */
export function startEarlyBffRequests(pageApiPath: string | undefined, send: typeof fetch = fetch): EarlyBffRequests {
  const get = (path: string) => earlyRequest('GET', path, null, send(path, { headers: { 'X-CSRF': '1' }, credentials: 'same-origin' }));
  return { user: get(BFF_PATHS.user), pageData: pageApiPath ? get(pageApiPath) : null };
}

/**
 * The page's data belongs to the session `/bff/user` answered: when that answer is not a session
 * (signed out, or an error), the early API call is dropped, so no later request of the app gets it.
 */
export function dropEarlyPageData(early: EarlyBffRequests | null): void {
  if (early) early.pageData = null;
}
