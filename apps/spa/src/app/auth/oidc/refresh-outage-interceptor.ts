import { HttpErrorResponse, type HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, throwError } from 'rxjs';
import { SplitSecurityStorage } from './split-security-storage';

/**
 * Answers to a refresh that say the IdP cannot serve it now, not that the refresh token is
 * refused: no answer at all, a 5xx (a restart's 503, a gateway's 502 or 504), 429 and 408, and the
 * OAuth errors `temporarily_unavailable` and `server_error` whatever their status.
 */
export function isIdpOutage(error: HttpErrorResponse): boolean {
  if (error.status === 0 || error.status >= 500 || error.status === 429 || error.status === 408) return true;
  const body: unknown = error.error;
  const code = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['error'] : undefined;
  return code === 'temporarily_unavailable' || code === 'server_error';
}

function isRefreshGrant(method: string, body: unknown): boolean {
  return method === 'POST' && typeof body === 'string' && new URLSearchParams(body).get('grant_type') === 'refresh_token';
}

/**
 * angular-auth-oidc-client drops the stored session on every failed refresh (one without an answer
 * after retrying for `silentRenewTimeoutInSeconds`): an IdP restarting or overloaded would sign the
 * user out of every tab and throw away a refresh token that is still good. On an outage answer to
 * a refresh this interceptor holds the session in storage (the library's reset then leaves it
 * there; OidcAuthSession releases it and takes the session up again) and fails the refresh at once
 * instead of letting the library retry for 20 s. A refusal of the refresh token itself
 * (`invalid_grant`, any other 4xx) still ends the session. Decision 0067.
 */
export const refreshOutageInterceptor: HttpInterceptorFn = (request, next) => {
  if (!isRefreshGrant(request.method, request.body)) return next(request);
  const storage = inject(SplitSecurityStorage);
  return next(request).pipe(
    catchError((error: unknown) => {
      if (!(error instanceof HttpErrorResponse) || !isIdpOutage(error)) return throwError(() => error);
      console.warn(`[auth] the identity provider could not renew the session (${error.status === 0 ? 'no answer' : error.status}); the session is kept`);
      storage.holdShared();
      // Status 0 with a ProgressEvent is what the library retries: a status of its own is not.
      const status = error.status === 0 ? 503 : error.status;
      return throwError(() => new HttpErrorResponse({ error: null, status, statusText: 'Identity provider unavailable', url: error.url ?? request.urlWithParams }));
    }),
  );
};
