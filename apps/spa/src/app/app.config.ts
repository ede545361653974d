import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { inject, provideAppInitializer, provideBrowserGlobalErrorListeners, type ApplicationConfig, type EnvironmentProviders, type Provider } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { routes } from './app.routes';
import { AuthSession } from './auth/auth-session';
import { accessTokenInterceptor } from './auth/oidc/access-token-interceptor';
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
      provideHttpClient(withFetch(), withInterceptors([accessTokenInterceptor])),
      ...authSession,
      // Handles the login callback and restores the session. Not awaited: the shell and the first
      // page render while the token request is in flight; until the session's status settles
      // ('initializing') they show nothing that depends on it.
      provideAppInitializer(() => {
        void inject(AuthSession).initialize();
      }),
    ],
  };
}
