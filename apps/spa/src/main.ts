import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig } from './app/app.config';
import { preloadPage } from './app/app.routes';
import { provideJwksPrefetch } from './app/auth/oidc/jwks-prefetch';
import { loadOidcRuntime, oidcNeededAtStart } from './app/auth/oidc/oidc-start';
import { provideSignedOutAuthSession } from './app/auth/oidc/signed-out-auth-session';
import { SplitSecurityStorage } from './app/auth/oidc/split-security-storage';
import { loadRuntimeConfig } from './app/core/runtime-config';

// With a stored session or on a return from the IdP, the OIDC chunk downloads from here on; a
// signed-out first visit starts without it. The first page's chunk downloads meanwhile too: the
// router asks for it only once the session is restored.
const oidcRuntime = oidcNeededAtStart(location.search, new SplitSecurityStorage()) ? loadOidcRuntime() : undefined;
preloadPage(location.pathname);

// The configuration comes from the server at run time (inside index.html), so one build serves
// every environment.
Promise.all([loadRuntimeConfig(), oidcRuntime])
  .then(([config, oidc]) =>
    bootstrapApplication(App, appConfig(config, oidc ? [provideJwksPrefetch(), ...oidc.provideOidcAuthSession(config)] : provideSignedOutAuthSession())),
  )
  .catch((error: unknown) => {
    console.error(error);
    const message = document.createElement('p');
    message.setAttribute('role', 'alert');
    message.textContent = 'The application could not start: its configuration or code could not be loaded. Please try again later.';
    document.body.replaceChildren(message);
  });
