import type { HttpInterceptorFn } from '@angular/common/http';
import { inject, InjectionToken } from '@angular/core';
import { apiRequestUrl } from '../../core/api-paths';
import type { TokenModeConfig } from '../../core/runtime-config';
import { earlyRequest, type EarlyAnswer, type EarlyRequest, takeEarlyAnswer } from '../early-request';
import { isApiUrl } from './access-token-interceptor';

/** The start-up page's API GET, sent with the access token of the early token response. */
export interface EarlyApiCall extends EarlyRequest {
  /** The access token it carried as its bearer. */
  readonly bearer: string;
}

/** Where the early API call is, once the early token response has brought an access token. */
export interface EarlyApiCallSlot {
  call: EarlyApiCall | null;
}

export const EARLY_API_CALL = new InjectionToken<EarlyApiCallSlot | null>('EARLY_API_CALL');

/**
 * On a return from the IdP, the app's first API call (the start-up page's GET, FirstPageData)
 * would leave only once the OIDC chunk has run and the library has checked the tokens: most of the
 * time between the token response and the data on screen. It needs only the access token, so it
 * leaves as soon as the early token request (startCodeExchange) is answered with one: a 2xx
 * holding an `access_token`, sent as a bearer to the API only (`isApiUrl`, the
 * access-token interceptor's rule), never anywhere else.
 *
 * Its answer is taken only by the app's own identical request (`earlyApiCallInterceptor`: same
 * method, URL and bearer), which the app sends only once the library has checked the tokens and
 * stored this very access token; when the library rejects them (ID token signature, nonce,
 * issuer, audience…), no request carries that token and the answer is never used
 * (docs/decisions/0035-spa-token-mode-first-api-call-with-the-token-response.md).
 */
export function startApiCallOnTokens(config: TokenModeConfig, path: string, exchange: EarlyRequest, base: string, send: typeof fetch = fetch): EarlyApiCallSlot | null {
  const url = apiRequestUrl(config.apiUrl, path);
  if (!isApiUrl(url, config.apiUrl, base)) return null;
  const slot: EarlyApiCallSlot = { call: null };
  exchange.answer.then(
    (answer) => {
      const token = accessTokenOf(answer);
      if (!token) return;
      const headers = { Accept: 'application/json, text/plain, */*', Authorization: `Bearer ${token}` };
      slot.call = Object.assign(earlyRequest('GET', url, null, send(url, { headers })), { bearer: token });
    },
    () => {},
  );
  return slot;
}

/** The access token of a successful token response, or null. */
function accessTokenOf(answer: EarlyAnswer): string | null {
  if (answer.status < 200 || answer.status >= 300 || typeof answer.body !== 'object' || answer.body === null) return null;
  const token = (answer.body as Record<string, unknown>)['access_token'];
  return typeof token === 'string' && token !== '' ? token : null;
}

/**
 * Answers the app's request with the early API call it repeats, once: same method and URL, and
 * the same bearer token, i.e. the access token the library accepted is the one the early call
 * carried (it must come after `accessTokenInterceptor`, which adds that token). Any other request
 * goes to the API. An early call answered with anything but a 2xx (no answer, 401, 403, 5xx…) is
 * sent again as the app's own request, which then gets whatever the API answers it: a GET may be
 * repeated, and the app then sees exactly what it would have seen without the early call.
 */
export const earlyApiCallInterceptor: HttpInterceptorFn = (request, next) => {
  const slot = inject(EARLY_API_CALL, { optional: true });
  const call = slot?.call;
  if (!slot || !call || call.taken || call.method !== request.method || call.url !== request.urlWithParams ||
    request.headers.get('Authorization') !== `Bearer ${call.bearer}`) return next(request);
  slot.call = null;
  return takeEarlyAnswer(call, () => next(request), () => true);
};
