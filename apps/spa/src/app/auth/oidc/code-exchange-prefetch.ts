import { HttpErrorResponse, HttpResponse, type HttpEvent, type HttpInterceptorFn } from '@angular/common/http';
import { inject, InjectionToken } from '@angular/core';
import { Observable } from 'rxjs';
import type { TokenModeConfig } from '../../core/runtime-config';
import { storedLoginInFlight, storedTokenEndpoint } from './library-internals';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import type { SplitSecurityStorage } from './split-security-storage';

interface TokenAnswer {
  status: number;
  statusText: string;
  body: unknown;
}

/** A code exchange sent at start-up, waiting for the library's own token request. */
export interface CodeExchange {
  readonly url: string;
  readonly params: URLSearchParams;
  readonly answer: Promise<TokenAnswer>;
  taken: boolean;
}

export const CODE_EXCHANGE = new InjectionToken<CodeExchange>('CODE_EXCHANGE');

/**
 * On a return from the IdP, angular-auth-oidc-client sends the token request only once its lazy
 * chunk has loaded, the app has bootstrapped and the library has read its state: the request
 * itself needs none of that. This sends it at start-up, the same request the library would send
 * (its token endpoint, client id, PKCE verifier, the code, the redirect URI), and only after the
 * library's own first check passes: the `state` in the URL is the one it stored before the
 * redirect. `codeExchangeInterceptor` hands the answer, once, to the library's request, and the
 * library checks the tokens as always (ID token signature, nonce, issuer, audience…).
 */
export function startCodeExchange(config: TokenModeConfig, search: string, storage: SplitSecurityStorage, send: typeof fetch = fetch): CodeExchange | null {
  const query = new URLSearchParams(search);
  const code = query.get('code');
  if (!code || query.has('error')) return null;
  const entries = parseEntries(storage.read(OIDC_CONFIG_ID));
  const login = storedLoginInFlight(entries);
  const url = storedTokenEndpoint(entries);
  if (!login || !url || query.get('state') !== login.state) return null;
  const params = new URLSearchParams({
    grant_type: 'authorization_code', client_id: config.clientId, code_verifier: login.codeVerifier, code, redirect_uri: config.redirectUrl,
  });
  const answer = send(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: params.toString() })
    .then(async (res): Promise<TokenAnswer> => ({ status: res.status, statusText: res.statusText, body: await res.json().catch(() => null) }));
  // The library's request sees a failure; an answer nobody takes is no unhandled rejection.
  answer.catch(() => {});
  return { url, params, answer, taken: false };
}

/** Answers the library's token request with the exchange started at start-up, if it is that request; once. */
export const codeExchangeInterceptor: HttpInterceptorFn = (request, next) => {
  const exchange = inject(CODE_EXCHANGE, { optional: true });
  if (!exchange || exchange.taken || request.method !== 'POST' || request.urlWithParams !== exchange.url || !sameParams(request.body, exchange.params)) {
    return next(request);
  }
  exchange.taken = true;
  const url = exchange.url;
  return new Observable<HttpEvent<unknown>>((subscriber) => {
    void exchange.answer
      .catch((error: unknown): TokenAnswer => ({ status: 0, statusText: 'Unknown Error', body: error }))
      .then((answer) => {
        if (answer.status >= 200 && answer.status < 300) {
          subscriber.next(new HttpResponse({ status: answer.status, statusText: answer.statusText, body: answer.body, url }));
          subscriber.complete();
        } else {
          subscriber.error(new HttpErrorResponse({ status: answer.status, statusText: answer.statusText, error: answer.body, url }));
        }
      });
  });
};

/** The same form fields with the same values, whatever the order and the encoding. */
function sameParams(body: unknown, expected: URLSearchParams): boolean {
  if (typeof body !== 'string') return false;
  const sorted = (params: URLSearchParams) => [...params].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join('&');
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
