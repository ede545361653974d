import { DOCUMENT, inject, type Provider } from '@angular/core';
import { Router } from '@angular/router';

/**
 * The `Router` that angular-auth-oidc-client injects, as a stand-in for Angular's: the library
 * only calls `navigateByUrl`, after a login callback (unless `triggerAuthorizationResultEvent` is
 * on) and to a route its auto-login guards saved (unused here). Without it, the library's services
 * build Angular's router on every start with a session, the return from the IdP included. The
 * navigation replaces the current history entry (the library navigates away from a callback's
 * address, which should not stay in the history) and tells the app's PageRouter as the browser's
 * back and forward do, with a `popstate` event: importing PageRouter here would make the build
 * split `main` into two initial files. The `Router` imported here is the build's stand-in for
 * @angular/router (angular-router-stand-in.mjs, decision 0030): the token, none of the router's code.
 */
export function provideRouterForOidcLibrary(): Provider {
  return {
    provide: Router,
    useFactory: () => {
      const window = inject(DOCUMENT).defaultView!;
      const navigateByUrl = (url: string) => {
        window.history.replaceState(null, '', url);
        window.dispatchEvent(new PopStateEvent('popstate', { state: null }));
        return Promise.resolve(true);
      };
      return { navigateByUrl } as Partial<Router> as Router;
    },
  };
}
