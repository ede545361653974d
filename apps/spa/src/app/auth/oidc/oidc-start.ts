import { InjectionToken } from '@angular/core';
import type * as OidcRuntimeModule from './oidc-runtime';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import type { SplitSecurityStorage } from './split-security-storage';

/**
 * angular-auth-oidc-client and OidcAuthSession live in a lazy chunk (`oidc-runtime.ts`): a first,
 * signed-out visit never needs them until the user clicks "Log in".
 */
export type OidcRuntime = typeof OidcRuntimeModule;

/** Loads the OIDC chunk; the browser fetches it once per page, whoever asks first. */
export function loadOidcRuntime(): Promise<OidcRuntime> {
  return import('./oidc-runtime');
}

export const OIDC_RUNTIME_LOADER = new InjectionToken<() => Promise<OidcRuntime>>('OIDC_RUNTIME_LOADER', {
  providedIn: 'root',
  factory: () => loadOidcRuntime,
});

/** Query parameters of a return from the IdP (a code or an error), which the library must handle. */
const CALLBACK_PARAMETERS = ['code', 'state', 'error'];

/**
 * On a return from the IdP: the address the IdP sent the browser back to, for the library to check
 * (`OidcSecurityService.checkAuth(url)`), after replacing it in the address bar by the same address
 * without its query and fragment. Done at start-up, before any of the app's code that could show,
 * log or navigate with them runs, so they never come back whatever the callback's outcome, and the
 * library needs neither to rewrite the history nor to navigate after the callback (decision 0027).
 * Null (and the address left alone) on any other start.
 */
export function takeCallbackUrl(href: string, replaceAddress: (url: string) => void): string | null {
  const url = new URL(href);
  if (!CALLBACK_PARAMETERS.some((name) => url.searchParams.has(name))) return null;
  replaceAddress(url.origin + url.pathname);
  return href;
}

/**
 * Whether the app starts with the OIDC session: on a return from the IdP, or when anything of a
 * session (or of a login in flight) is stored. Otherwise it starts signed out without it.
 */
export function oidcNeededAtStart(search: string, storage: SplitSecurityStorage): boolean {
  const parameters = new URLSearchParams(search);
  return CALLBACK_PARAMETERS.some((name) => parameters.has(name)) || storage.hasEntries(OIDC_CONFIG_ID);
}
