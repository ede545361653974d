import { type HttpInterceptorFn } from '@angular/common/http';
import { DOCUMENT, inject } from '@angular/core';
import { switchMap, take } from 'rxjs';
import { TOKEN_MODE_CONFIG } from '../../core/runtime-config';
import { ACCESS_TOKEN_SOURCE } from './access-token-source';

/**
 * True only when `url` (absolute or relative to `base`) has exactly the API's origin: scheme,
 * host and port all equal. A string prefix is not enough: `http://localhost:500` is a prefix of
 * `http://localhost:5001`, and `http://localhost:5001.evil.example` starts with it.
 */
export function isApiOrigin(url: string, apiUrl: string, base: string): boolean {
  if (!URL.canParse(url, base) || !URL.canParse(apiUrl)) return false;
  const target = new URL(url, base);
  return (target.protocol === 'http:' || target.protocol === 'https:') && target.origin === new URL(apiUrl).origin;
}

/** Adds the access token to requests for the API's origin, and to nothing else. */
export const accessTokenInterceptor: HttpInterceptorFn = (request, next) => {
  const { apiUrl } = inject(TOKEN_MODE_CONFIG);
  if (!isApiOrigin(request.url, apiUrl, inject(DOCUMENT).baseURI)) return next(request);
  return inject(ACCESS_TOKEN_SOURCE).accessToken().pipe(
    take(1),
    switchMap((token) => next(token ? request.clone({ setHeaders: { Authorization: `Bearer ${token}` } }) : request)),
  );
};
