import { DOCUMENT, ErrorHandler, inject, provideAppInitializer, provideBrowserGlobalErrorListeners, type ApplicationConfig, type EnvironmentProviders, type Provider } from '@angular/core';
import { pageApiCall, routes } from './app.routes';
import { AuthSession } from './auth/auth-session';
import { RENDER_WHILE_RESTORING } from './auth/render-while-restoring';
import { provideCspNonce } from './core/csp-nonce';
import { FirstPageData } from './core/first-page-data';
import { PAGE_ROUTES } from './routing/page-router';

/**
 * `authSession`: the providers of AuthSession and of the HttpClient it uses, for the mode the
 * runtime configuration names (provideAuthSession, see main.ts).
 */
export function appConfig(authSession: (Provider | EnvironmentProviders)[]): ApplicationConfig {
  return {
    providers: [
      provideBrowserGlobalErrorListeners(),
      provideCspNonce(document),
      { provide: PAGE_ROUTES, useValue: routes },
      ...authSession,
      // Handles the login callback and restores the session. BFF mode renders meanwhile
      // (RENDER_WHILE_RESTORING). Token mode waits: its callback is all main-thread work with the
      // token response already in hand, so the first render after it shows the page's data (sent
      // as soon as the session is there) instead of coming first and delaying that call
      // (bench/README.md, "Token mode: the return page's callback").
      provideAppInitializer(() => {
        const session = inject(AuthSession);
        const firstPageData = inject(FirstPageData);
        const errors = inject(ErrorHandler);
        const path = inject(DOCUMENT).location.pathname;
        const restored = session.initialize().then(() => {
          // The page's data needs the session only: asked for now, it arrives while the app renders.
          const call = pageApiCall(path);
          if (call) firstPageData.start(call);
        });
        if (!inject(RENDER_WHILE_RESTORING, { optional: true })) return restored;
        restored.catch((error: unknown) => errors.handleError(error));
        return undefined;
      }),
    ],
  };
}
