import { HttpBackend, HttpRequest, HttpResponse, type HttpEvent, type HttpInterceptorFn } from '@angular/common/http';
import { DOCUMENT, inject, Injectable, provideAppInitializer, type EnvironmentProviders } from '@angular/core';
import { filter, shareReplay, type Observable } from 'rxjs';
import { storedJwksUri } from './library-internals';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import { SplitSecurityStorage } from './split-security-storage';

/**
 * On a return from the IdP, angular-auth-oidc-client asks for the IdP's key set (JWKS) only after
 * the token response, then checks the ID token's signature with it: two requests in a row. This
 * starts the key-set request together with the token request; the library's own request then
 * gets that answer (once) through `jwksPrefetchInterceptor`. Same URL (the IdP's `jwks_uri`
 * from its discovery document), same checks by the library: only the waiting overlaps. (It lives
 * in the initial bundle: a module shared with the lazy OIDC chunk would split the bundle.)
 */
@Injectable({ providedIn: 'root' })
export class JwksPrefetch {
  private readonly backend = inject(HttpBackend);
  private readonly document = inject(DOCUMENT);
  private readonly storage = inject(SplitSecurityStorage);
  private pending: { url: string; response: Observable<HttpEvent<unknown>> } | null = null;

  /** On a return from the IdP with a code, starts fetching the key set the library will ask for. */
  startOnReturnFromIdp(): void {
    if (!new URLSearchParams(this.document.location.search).has('code')) return;
    const uri = storedJwksUri(this.storage.readShared(OIDC_CONFIG_ID));
    if (uri) this.start(uri);
  }

  /** Starts a GET of `url` (bypassing the interceptors) for the next request of it. */
  start(url: string): void {
    const response = this.backend.handle(new HttpRequest('GET', url, { responseType: 'json' })).pipe(
      filter((event) => event instanceof HttpResponse),
      shareReplay(1),
    );
    response.subscribe({ error: () => {} });
    this.pending = { url, response };
  }

  /** The prefetched answer if `request` is the GET it anticipated, once; otherwise undefined. */
  take(request: HttpRequest<unknown>): Observable<HttpEvent<unknown>> | undefined {
    if (!this.pending || request.method !== 'GET' || request.urlWithParams !== this.pending.url) return undefined;
    const { response } = this.pending;
    this.pending = null;
    return response;
  }
}

export const jwksPrefetchInterceptor: HttpInterceptorFn = (request, next) => inject(JwksPrefetch).take(request) ?? next(request);

/** With the OIDC session: the prefetch starts before the session is restored (see main.ts). */
export function provideJwksPrefetch(): EnvironmentProviders {
  return provideAppInitializer(() => inject(JwksPrefetch).startOnReturnFromIdp());
}
