import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import type { EnvironmentProviders, Provider } from '@angular/core';
import { TOKEN_MODE_CONFIG, type RuntimeConfig, type TokenModeConfig } from '../core/runtime-config';
import { provideBffAuthSession } from './bff/bff-auth-session';
import { startEarlyBffRequests } from './bff/early-bff-requests';
import { accessTokenInterceptor } from './oidc/access-token-interceptor';
import { EARLY_API_CALL, earlyApiCallInterceptor, startApiCallOnTokens } from './oidc/early-api-call';
import { EARLY_IDP_REQUESTS, earlyIdpRequestInterceptor, startCodeExchange, startKeySetFetch } from './oidc/early-idp-requests';
import { refreshOutageInterceptor } from './oidc/refresh-outage-interceptor';
import { loadOidcRuntime, oidcNeededAtStart, takeCallbackUrl, type OidcRuntime } from './oidc/oidc-start';
import { provideSignedOutAuthSession } from './oidc/signed-out-auth-session';
import { SplitSecurityStorage } from './oidc/split-security-storage';

type Providers = (Provider | EnvironmentProviders)[];

/** What the choice of session depends on at start-up besides the configuration (tests replace it). */
export interface StartContext {
  /** The page's address and its query string (a return from the IdP carries `code`/`state`/`error`). */
  readonly href: string;
  readonly search: string;
  /** Replaces the address in the address bar, adding no history entry. */
  readonly replaceAddress: (url: string) => void;
  /** The API path the start-up page GETs as it opens, if any (see FirstPageData). */
  readonly pageApiCall: string | undefined;
  readonly storage: SplitSecurityStorage;
  readonly loadOidcRuntime: () => Promise<OidcRuntime>;
  /** Sends the requests started at start-up (tests replace it). */
  readonly fetch: typeof fetch;
}

/**
 * The AuthSession the app starts with, chosen by the runtime configuration: BFF mode never loads
 * the OIDC chunk (angular-auth-oidc-client) and asks the BFF for the session and the page's data
 * now; token mode loads it when a session or a return from the IdP needs it, and otherwise starts
 * signed out without it.
 */
export async function provideAuthSession(config: RuntimeConfig, start: StartContext): Promise<Providers> {
  if (config.mode === 'bff') return provideBffAuthSession(startEarlyBffRequests(start.pageApiCall, start.fetch));
  return provideTokenModeAuthSession(config, start);
}

async function provideTokenModeAuthSession(config: TokenModeConfig, start: StartContext): Promise<Providers> {
  const needed = oidcNeededAtStart(start.search, start.storage);
  // On a return from the IdP the code exchange and the key set leave now, while the OIDC chunk loads and the app boots.
  const exchange = needed ? startCodeExchange(config, start.search, start.storage, start.fetch) : null;
  const early = exchange ? [exchange, startKeySetFetch(start.storage, start.fetch)].filter((r) => r !== null) : [];
  // And the start-up page's API call as soon as the token response brings an access token; the
  // app's own call takes its answer only with the token the library accepted (decision 0035).
  const apiCall = exchange && start.pageApiCall ? startApiCallOnTokens(config, start.pageApiCall, exchange, start.href, start.fetch) : null;
  const callbackUrl = takeCallbackUrl(start.href, start.replaceAddress);
  const oidc = needed ? await start.loadOidcRuntime() : undefined;
  return [
    { provide: TOKEN_MODE_CONFIG, useValue: config },
    { provide: EARLY_IDP_REQUESTS, useValue: early },
    { provide: EARLY_API_CALL, useValue: apiCall },
    // earlyApiCallInterceptor after accessTokenInterceptor: it compares the bearer that one adds.
    // refreshOutageInterceptor first: it sees the IdP's answer to a refresh as it came (decision 0067).
    provideHttpClient(withFetch(), withInterceptors([refreshOutageInterceptor, earlyIdpRequestInterceptor, accessTokenInterceptor, earlyApiCallInterceptor])),
    ...(oidc ? oidc.provideOidcAuthSession(config, callbackUrl) : provideSignedOutAuthSession()),
  ];
}

/**
 * The start context of this page; `pageApiCall`: the API path its page GETs as it opens. Its
 * storage opens localStorage and sessionStorage when first read, which only token mode does.
 */
export function browserStart(pageApiCall: string | undefined): StartContext {
  let storage: SplitSecurityStorage | undefined;
  return {
    href: location.href,
    search: location.search,
    replaceAddress: (url) => history.replaceState(history.state, '', url),
    pageApiCall,
    get storage() {
      return (storage ??= new SplitSecurityStorage());
    },
    loadOidcRuntime,
    fetch: (input, init) => fetch(input, init),
  };
}
