import { LogLevel, type OpenIdConfiguration } from 'angular-auth-oidc-client';
import type { TokenModeConfig } from '../../core/runtime-config';
import { OIDC_CONFIG_ID } from './oidc-config-id';

export { OIDC_CONFIG_ID };

/**
 * Longest a logout waits for the refresh lock and the IdP's answer to the refresh-token revocation
 * before it ends the session anyway (the tokens have already left storage; decision 0015).
 */
export const LOGOUT_REVOCATION_WAIT_MS = 5_000;

/**
 * After a refresh met an outage of the IdP (no answer, a 5xx, 429: decision 0067), the session is
 * kept and renewed again after `first` ms, doubling at each further outage up to `longest`.
 */
export const IDP_OUTAGE_RETRY_MS = { first: 5_000, longest: 60_000 } as const;

/** How often each tab checks whether the token needs renewing (seconds). */
const TOKEN_CHECK_INTERVAL_SECONDS = 2;

export function buildOidcConfig(config: TokenModeConfig): OpenIdConfiguration {
  return {
    configId: OIDC_CONFIG_ID,
    // Auth0's issuer ends with '/'. The library appends '/.well-known/…' to the authority as given,
    // and accepts a discovered issuer equal to the authority or to the authority plus '/': without
    // the slash here, both issuer forms work.
    authority: config.authority.replace(/\/$/, ''),
    clientId: config.clientId,
    redirectUrl: config.redirectUrl,
    postLogoutRedirectUri: config.redirectUrl,
    scope: config.scope,
    responseType: 'code',
    // Auth0 picks the API by `audience`; the embedded IdP maps it to a resource indicator.
    customParamsAuthRequest: { audience: config.audience },
    // Auth0 needs the scope again on refresh, or it narrows the new access token.
    customParamsRefreshTokenRequest: { scope: config.scope },
    silentRenew: true,
    useRefreshToken: true,
    // Serialises refreshes of all tabs (Web Locks) over the shared storage: rotation is safe.
    useRefreshTokenLock: true,
    ignoreNonceAfterRefresh: true,
    renewTimeBeforeTokenExpiresInSeconds: config.renewBeforeExpirySeconds,
    tokenRefreshInSeconds: TOKEN_CHECK_INTERVAL_SECONDS,
    silentRenewTimeoutInSeconds: 20,
    // Claims come from the ID token: no userinfo request at start-up or after a refresh.
    autoUserInfo: false,
    renewUserInfoAfterTokenRenew: false,
    // The interceptor of this app attaches tokens by exact origin and path (isApiUrl); the library's prefix match is off.
    secureRoutes: [],
    startCheckSession: false,
    // The app takes the code and state out of the address bar at start-up and hands the callback's
    // address to checkAuth (takeCallbackUrl, decision 0027), so the library neither rewrites the
    // history after the callback nor navigates (the app is on the page the IdP returned to).
    triggerAuthorizationResultEvent: true,
    historyCleanupOff: true,
    logLevel: LogLevel.Warn,
  };
}
