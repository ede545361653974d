/**
 * Everything this app relies on in angular-auth-oidc-client that the library does not publish as
 * API: the names it uses in storage and for its Web Lock, where it keeps the discovery document,
 * and two of its behaviours that we work around. `library-internals.spec.ts` pins each one by
 * running the real library, so an upgrade that changes one fails a test instead of a user.
 * This module does not import the library: the initial bundle uses it too.
 */

type Entries = Readonly<Record<string, unknown>>;

/** The Web Lock the library takes around a refresh (`useRefreshTokenLock`); logout revokes under it too. */
export function refreshLockName(configId: string): string {
  return `angular-auth-oidc-client-refresh-token-${configId}`;
}

/**
 * Entries of the library's state that describe one tab's own flow rather than the session: a
 * login redirect in flight (PKCE verifier, state, nonce) or a refresh this tab is running.
 * SplitSecurityStorage keeps them in sessionStorage.
 */
export const PER_TAB_ENTRIES: ReadonlySet<string> = new Set([
  'authStateControl',
  'authNonce',
  'codeVerifier',
  'storageCodeFlowInProgress',
  'storageSilentRenewRunning',
  'storageCustomParamsAuthRequest',
  'storageCustomParamsRefresh',
  'storageCustomParamsEndSession',
]);

/**
 * The per-tab entries a login redirect writes (PKCE verifier, state, nonce, and the flag that a
 * code flow is under way) and the return from the IdP consumes. While the flag is set, the
 * library's periodic check never renews the tokens in that tab. A start of the app that is not that
 * return means the login was left (the user came back from the IdP's login page): OidcAuthSession
 * drops them (decision 0050).
 */
export const LOGIN_IN_FLIGHT_ENTRIES: readonly string[] = ['codeVerifier', 'authStateControl', 'authNonce', 'storageCodeFlowInProgress'];

/** Whether the library's stored state holds a session (the token response and the access token). */
export function hasStoredTokens(entries: Entries | null): boolean {
  return !!(entries?.['authnResult'] && entries['authzData']);
}

/** The access token's expiry (epoch ms) as the library stored it, for tokens that are not JWTs. */
export function storedAccessTokenExpiry(entries: Entries | null): number | null {
  const value = entries?.['access_token_expires_at'];
  return typeof value === 'number' ? value : null;
}

/** The IdP's `jwks_uri` from the discovery document the library stored before the login redirect. */
export function storedJwksUri(entries: Entries | null): string | undefined {
  const endpoints = entries?.['authWellKnownEndPoints'];
  const uri = typeof endpoints === 'object' && endpoints !== null ? (endpoints as Entries)['jwksUri'] : undefined;
  return typeof uri === 'string' && URL.canParse(uri) ? uri : undefined;
}

/**
 * The library checks a new ID token's expiry (and, at every token check, the access token's) with
 * a debug message that it builds even when debug logging is off, formatting two times with
 * toLocaleTimeString(). The first such call in a renderer process sets up the browser's date
 * formatting (ICU's locale and time-zone data): 25–60 ms on a slow, busy machine. On a return
 * from the IdP that lands on the critical path, since the main thread is busy from the bundle's
 * arrival to the API call. Made while the login starts instead (the OIDC chunk and the discovery
 * document are on their way), it is paid before the page leaves for the IdP: the return page,
 * when the browser gives it the same renderer process (an IdP on the app's own site), then
 * formats in well under a millisecond; otherwise it pays as before.
 */
export function prepareDateFormatting(): void {
  new Date(0).toLocaleTimeString();
}

interface LocalLogoff {
  logoffLocal(): void;
}
interface OwnStorage {
  readShared(configId: string): Entries | null;
  clear(): void;
}

/**
 * Signs this tab out after another tab logged out (which removed the shared part). `logoffLocal`
 * rewrites the library's whole state object for each entry it removes, so whatever it leaves or
 * writes back (this tab's flow entries, a discovery document read before the logout) is cleared
 * too, unless a session appeared meanwhile.
 */
export function logoffLocalLeavingNothing(oidc: LocalLogoff, storage: OwnStorage, configId: string): void {
  oidc.logoffLocal();
  if (!hasStoredTokens(storage.readShared(configId))) storage.clear();
}

/** The IdP's token endpoint from the discovery document the library stored before the login redirect. */
export function storedTokenEndpoint(entries: Entries | null): string | undefined {
  const endpoints = entries?.['authWellKnownEndPoints'];
  const uri = typeof endpoints === 'object' && endpoints !== null ? (endpoints as Entries)['tokenEndpoint'] : undefined;
  return typeof uri === 'string' && URL.canParse(uri) ? uri : undefined;
}

/** What the library stored for the login redirect in flight: the `state` it sent and the PKCE verifier. */
export function storedLoginInFlight(entries: Entries | null): { state: string; codeVerifier: string } | undefined {
  const state = entries?.['authStateControl'];
  const codeVerifier = entries?.['codeVerifier'];
  return typeof state === 'string' && state !== '' && typeof codeVerifier === 'string' && codeVerifier !== '' ? { state, codeVerifier } : undefined;
}
