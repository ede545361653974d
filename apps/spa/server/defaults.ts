// Every security-relevant default of the SPA and its server, in one place. Each can be overridden
// by the environment variable named beside it (see config.ts).
// The browser app's own fixed bounds, which no environment variable changes, live beside the code
// that uses them: src/app/auth/oidc/oidc-config.ts (token checks, renewal timeout, logout's wait
// for the revocation, decision 0015).

import type { HttpTimeouts } from '@suite/process-shell';

/** The embedded IdP; an Auth0 tenant is `https://<tenant>.auth0.com`. SPA_AUTHORITY */
export const AUTHORITY = 'http://localhost:4400';
/** Public client registered at the IdP (code flow + PKCE, no secret). SPA_CLIENT_ID */
export const CLIENT_ID = 'spa';
/** API identifier sent as Auth0's `audience`; tokens are only minted for this resource. SPA_AUDIENCE */
export const AUDIENCE = 'https://auth0-api-spa';
/** `offline_access` asks for a refresh token; the last scope is the API's permission. SPA_SCOPE */
export const SCOPE = 'openid profile offline_access auth0-user-api-spa';
/** The only origin that ever receives the access token. SPA_API_URL */
export const API_URL = 'http://localhost:5001';
/** Renew this many seconds before the access token expires. SPA_RENEW_BEFORE_EXPIRY */
export const RENEW_BEFORE_EXPIRY_SECONDS = 30;

/**
 * Strict-Transport-Security max-age, sent on every answer when SPA_PUBLIC_URL is https:// and never
 * when it is http:// (docs/decisions/0059): one year, so a browser that once reached the app over
 * https never again sends it a request, cookies included, in clear text. 0 tells browsers to
 * forget an earlier policy. SPA_HSTS_MAX_AGE
 */
export const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/** Slow clients cannot hold a connection open: whole request within 30 s, headers within 10 s; idle keep-alive 5 s. */
export const HTTP_TIMEOUTS: HttpTimeouts = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 };
/** Time given to in-flight requests on SIGTERM before the process exits anyway (exit code 1). */
export const SHUTDOWN_GRACE_MS = 10_000;

// The CSP (Trusted Types included: TRUSTED_TYPES_POLICIES, decision 0072), security headers and
// caching rule are shared with the BFF, which serves the same build.
export { contentSecurityPolicy, HASHED_ASSET_MAX_AGE_SECONDS, SECURITY_HEADERS, TRUSTED_TYPES_POLICIES } from '@suite/spa-hosting';
