import type { HttpInterceptorFn } from '@angular/common/http';
import { inject, InjectionToken } from '@angular/core';
import type { TokenModeConfig } from '../../core/runtime-config';
import { earlyRequest, takeEarlyAnswer, type EarlyRequest } from '../early-request';
import { storedJwksUri, storedLoginInFlight, storedTokenEndpoint } from './library-internals';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import type { SplitSecurityStorage } from './split-security-storage';

/** A request to the IdP sent at start-up, waiting for the library's identical request. */
export type EarlyIdpRequest = EarlyRequest;

export const EARLY_IDP_REQUESTS = new InjectionToken<readonly EarlyIdpRequest[]>('EARLY_IDP_REQUESTS');

/**
 * On a return from the IdP, angular-auth-oidc-client sends its token request only once its lazy
 * chunk has loaded, the app has bootstrapped and it has read its state, and asks for the key set
 * (JWKS) only after the token response: neither request needs any of that. Both leave at start-up
 * instead (`earlyIdpRequestInterceptor` hands each answer, once, to the library's identical
 * request), and the library checks the tokens as always: ID token signature, nonce, issuer,
 * audience…
 *
 * The token request is the one the library would send (its stored token endpoint and PKCE
 * verifier, the code, the client id and redirect URI), sent only when the library's own first
 * check passes: the `state` in the URL is the one it stored before the redirect.
 */
export function startCodeExchange(config: TokenModeConfig, search: string, storage: SplitSecurityStorage, send: typeof fetch = fetch): EarlyIdpRequest | null {
  const query = new URLSearchParams(search);
  const code = query.get('code');
  if (!code || query.has('error')) return null;
  const entries = parseEntries(storage.read(OIDC_CONFIG_ID));
  const login = storedLoginInFlight(entries);
  const url = storedTokenEndpoint(entries);
  if (!login || !url || query.get('state') !== login.state) return null;
  const form = new URLSearchParams({
    grant_type: 'authorization_code', client_id: config.clientId, code_verifier: login.codeVerifier, code, redirect_uri: config.redirectUrl,
  });
  return earlyRequest('POST', url, form, send(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() }));
}

/** The GET of the IdP's `jwks_uri` (from the discovery document the library stored before the redirect). */
export function startKeySetFetch(storage: SplitSecurityStorage, send: typeof fetch = fetch): EarlyIdpRequest | null {
  const url = storedJwksUri(parseEntries(storage.read(OIDC_CONFIG_ID)));
  return url ? earlyRequest('GET', url, null, send(url)) : null;
}

/**
 * Answers the library's request with the early one it repeats (same method, URL and form fields),
 * once. A key-set GET that failed early is sent again to the IdP; a token request cannot be (its
 * code is spent), so its failure is the library's answer.
 */
export const earlyIdpRequestInterceptor: HttpInterceptorFn = (request, next) => {
  const match = inject(EARLY_IDP_REQUESTS, { optional: true })?.find((early) => !early.taken && early.method === request.method &&
    early.url === request.urlWithParams && (early.form === null ? request.body === null : sameForm(request.body, early.form)));
  return match ? takeEarlyAnswer(match, () => next(request), () => match.method === 'GET') : next(request);
};

/** The same form fields with the same values, whatever the order and the encoding. */
function sameForm(body: unknown, expected: URLSearchParams): boolean {
  if (typeof body !== 'string') return false;
  // Sorted by code unit, not with localeCompare: its first call sets up the browser's collation
  // (≈ 20 ms of main thread on a slow machine, just when the token response arrives).
  const sorted = (params: URLSearchParams) => [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  return sorted(new URLSearchParams(body)) === sorted(expected);
}

function parseEntries(json: string | null): Record<string, unknown> | null {
  try {
    const value: unknown = json ? JSON.parse(json) : null;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
