import { type HttpInterceptorFn } from '@angular/common/http';
import { DOCUMENT, inject } from '@angular/core';
import { switchMap, take } from 'rxjs';
import { TOKEN_MODE_CONFIG } from '../../core/runtime-config';
import { ACCESS_TOKEN_SOURCE } from './access-token-source';

/**
 * True only when `url` (absolute or relative to `base`) is the API's: exactly its origin (scheme,
 * host and port) and, when `apiUrl` has a path, at or below that path, segment by segment (`/api/v2`
 * holds `/api/v2` and `/api/v2/users`, not `/api/v2x` nor `/oauth/token`). A string prefix is not
 * enough: `http://localhost:500` is a prefix of `http://localhost:5001`, and
 * `http://localhost:5001.evil.example` starts with it. The path matters where the API shares its
 * origin with something else, the IdP above all (Auth0's Management API at
 * `https://TENANT.auth0.com/api/v2`, an IdP and an API behind one gateway): the library's own
 * requests there (discovery, keys, token, revocation) must not carry the access token.
 */
export function isApiUrl(url: string, apiUrl: string, base: string): boolean {
  if (!URL.canParse(url, base) || !URL.canParse(apiUrl)) return false;
  const target = new URL(url, base);
  const api = new URL(apiUrl);
  if ((target.protocol !== 'http:' && target.protocol !== 'https:') || target.origin !== api.origin) return false;
  const root = api.pathname.replace(/\/$/, '');
  return root === '' || target.pathname === root || target.pathname.startsWith(`${root}/`);
}

/** Adds the access token to requests for the API (isApiUrl), and to nothing else. */
export const accessTokenInterceptor: HttpInterceptorFn = (request, next) => {
  const { apiUrl } = inject(TOKEN_MODE_CONFIG);
  if (!isApiUrl(request.url, apiUrl, inject(DOCUMENT).baseURI)) return next(request);
  return inject(ACCESS_TOKEN_SOURCE).accessToken().pipe(
    take(1),
    switchMap((token) => next(token ? request.clone({ setHeaders: { Authorization: `Bearer ${token}` } }) : request)),
  );
};
