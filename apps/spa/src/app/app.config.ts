import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { inject, provideAppInitializer, provideBrowserGlobalErrorListeners, type ApplicationConfig } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { routes } from './app.routes';
import { AuthSession } from './auth/auth-session';
import { accessTokenInterceptor } from './auth/oidc/access-token-interceptor';
import { provideOidcAuthSession } from './auth/oidc/provide-oidc-auth-session';
import { RUNTIME_CONFIG, type RuntimeConfig } from './core/runtime-config';

export function appConfig(runtimeConfig: RuntimeConfig): ApplicationConfig {
  return {
    providers: [
      provideBrowserGlobalErrorListeners(),
      provideRouter(routes, withComponentInputBinding()),
      { provide: RUNTIME_CONFIG, useValue: runtimeConfig },
      provideHttpClient(withFetch(), withInterceptors([accessTokenInterceptor])),
      ...provideOidcAuthSession(runtimeConfig),
      // Handles the login callback and restores the session before the first page renders.
      provideAppInitializer(() => inject(AuthSession).initialize()),
    ],
  };
}
