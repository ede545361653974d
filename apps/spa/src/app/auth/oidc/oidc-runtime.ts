import { provideHttpClient, withFetch } from '@angular/common/http';
import { createApplication } from '@angular/platform-browser';
import type { TokenModeConfig } from '../../core/runtime-config';
import { TOKEN_MODE_CONFIG } from '../../core/runtime-config';
import { AuthSession } from '../auth-session';
import type { Problem } from '../problem';
import { provideOidcAuthSession } from './provide-oidc-auth-session';

/**
 * Entry of the lazy chunk with angular-auth-oidc-client and OidcAuthSession (see oidc-start.ts).
 * The app is bootstrapped with `provideOidcAuthSession` when it starts with a session or a
 * callback; a signed-out app calls `startLogin`.
 */
export { provideOidcAuthSession };

/**
 * Starts a login from an app that was bootstrapped without the OIDC session. The library's
 * services are root services of the injector that provides its configuration, so the login runs
 * in an application of its own, which ends when the page leaves for the IdP. Returns the problem
 * when the login could not start (IdP unreachable).
 */
export async function startLogin(config: TokenModeConfig): Promise<Problem | null> {
  const app = await createApplication({
    providers: [provideHttpClient(withFetch()), { provide: TOKEN_MODE_CONFIG, useValue: config }, ...provideOidcAuthSession(config)],
  });
  const session = app.injector.get(AuthSession);
  await session.initialize();
  await session.login();
  const problem = session.problem();
  if (problem) app.destroy();
  return problem;
}
