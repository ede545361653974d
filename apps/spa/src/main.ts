import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig } from './app/app.config';
import { pageApiCall, preloadPage } from './app/app.routes';
import { browserStart, provideAuthSession } from './app/auth/provide-auth-session';
import { loadRuntimeConfig } from './app/core/runtime-config';

// The first page's chunk downloads while the session starts: the router asks for it only once
// the session is restored.
preloadPage(location.pathname);

// The configuration comes from the server at run time (inside index.html), so one build serves
// every environment and both modes: token mode (tokens in the browser) or BFF mode (tokens on
// the server). In token mode the OIDC chunk downloads from here on when a session exists or the
// page is a return from the IdP; a signed-out first visit, and BFF mode always, start without it.
// BFF mode asks for the session and the page's data from here on.
loadRuntimeConfig()
  .then(async (config) => bootstrapApplication(App, appConfig(await provideAuthSession(config, browserStart(pageApiCall(location.pathname))))))
  .catch((error: unknown) => {
    console.error(error);
    const message = document.createElement('p');
    message.setAttribute('role', 'alert');
    message.textContent = 'The application could not start: its configuration or code could not be loaded. Please try again later.';
    document.body.replaceChildren(message);
  });
