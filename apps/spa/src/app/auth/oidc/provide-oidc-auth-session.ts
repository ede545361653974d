import type { EnvironmentProviders, Provider } from '@angular/core';
import { AbstractSecurityStorage, provideAuth } from 'angular-auth-oidc-client';
import type { TokenModeConfig } from '../../core/runtime-config';
import { provideRouterForOidcLibrary } from '../../routing/library-router';
import { AuthSession } from '../auth-session';
import { ACCESS_TOKEN_SOURCE } from './access-token-source';
import { buildOidcConfig } from './oidc-config';
import { OIDC_CALLBACK_URL, OidcAuthSession } from './oidc-auth-session';
import { SplitSecurityStorage } from './split-security-storage';

/**
 * Wires AuthSession to the OIDC implementation. Pair with `accessTokenInterceptor` in
 * provideHttpClient. Part of the lazy OIDC chunk: import it only through oidc-start.ts.
 * `callbackUrl`: on a return from the IdP, the address it came back with (takeCallbackUrl).
 */
export function provideOidcAuthSession(config: TokenModeConfig, callbackUrl: string | null = null): (Provider | EnvironmentProviders)[] {
  return [
    { provide: OIDC_CALLBACK_URL, useValue: callbackUrl },
    provideAuth({ config: buildOidcConfig(config) }),
    // The library injects Angular's Router; the app routes its pages without it.
    provideRouterForOidcLibrary(),
    // Must come after provideAuth, which registers its own default storage.
    { provide: AbstractSecurityStorage, useExisting: SplitSecurityStorage },
    OidcAuthSession,
    { provide: AuthSession, useExisting: OidcAuthSession },
    { provide: ACCESS_TOKEN_SOURCE, useExisting: OidcAuthSession },
  ];
}
