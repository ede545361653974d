// Every security-relevant default of the SPA and its server, in one place. Each can be overridden
// by the environment variable named beside it (see config.ts).

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

/** Slow clients cannot hold a connection open: whole request within 30 s, headers within 10 s; idle keep-alive 5 s. */
export const HTTP_TIMEOUTS: HttpTimeouts = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 };
/** Time given to in-flight requests on SIGTERM before the process exits anyway (exit code 1). */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Cache lifetime of content-hashed build output; index.html and config.json are never cached. */
export const HASHED_ASSET_MAX_AGE_SECONDS = 365 * 24 * 3600;

/**
 * Content-Security-Policy of every response. No inline script at all; Angular's component styles
 * are inserted at run time, so style elements carry a per-response nonce (`ngCspNonce`). The
 * browser may only talk to ourselves, the IdP and the API.
 */
export function contentSecurityPolicy(nonce: string, connectOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${[...new Set(connectOrigins)].join(' ')}`.trim(),
    "manifest-src 'self'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers sent with every response besides the CSP. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  // The authorization code sits in our URL on return from the IdP: never leak it in a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};
