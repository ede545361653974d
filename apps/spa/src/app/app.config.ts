import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { inject, provideAppInitializer, provideBrowserGlobalErrorListeners, type ApplicationConfig, type EnvironmentProviders, type Provider } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { routes } from './app.routes';
import { AuthSession } from './auth/auth-session';
import { accessTokenInterceptor } from './auth/oidc/access-token-interceptor';
import { jwksPrefetchInterceptor } from './auth/oidc/jwks-prefetch';
import { RUNTIME_CONFIG, type RuntimeConfig } from './core/runtime-config';

/**
 * `authSession`: the providers of AuthSession (and the interceptor's ACCESS_TOKEN_SOURCE), from
 * the lazy OIDC chunk's provideOidcAuthSession or provideSignedOutAuthSession (see main.ts).
 */
export function appConfig(runtimeConfig: RuntimeConfig, authSession: (Provider | EnvironmentProviders)[]): ApplicationConfig {
  return {
    providers: [
      provideBrowserGlobalErrorListeners(),
      provideRouter(routes, withComponentInputBinding()),
      { provide: RUNTIME_CONFIG, useValue: runtimeConfig },
      provideHttpClient(withFetch(), withInterceptors([jwksPrefetchInterceptor, accessTokenInterceptor])),
      ...authSession,
      // Handles the login callback and restores the session before the first page renders. Awaited
      // on purpose: the router's first navigation writes the URL it started from back into the
      // address bar, so it must start after the library has removed the code from it.
      provideAppInitializer(() => inject(AuthSession).initialize()),
    ],
  };
}
