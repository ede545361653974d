// Every security-relevant default of the resource API, in one place. Each can be overridden by the
// environment variable named beside it (see config.ts and the README's configuration table).

import type { HttpTimeouts } from '@suite/process-shell';

/** Issuer of the embedded IdP; its discovery document gives jwks_uri and the introspection endpoint. AUTH_AUTHORITY */
export const AUTHORITY = 'http://localhost:4400';
/** Our API identifier: the `aud` every accepted access token must carry (Auth0's API "identifier"). AUTH_AUDIENCE */
export const AUDIENCE = 'https://auth0-api-spa';
/**
 * Client ids whose tokens the reference policy accepts (the `azp`/`client_id` requirement) when
 * AUTH_ALLOWED_CLIENTS is unset in the development profile: the SPA in token mode and the BFF, plus
 * Swagger UI's client (API_SWAGGER_CLIENT_ID) so that "Try it out" works out of the box. The
 * production profile has no default: it refuses to start until AUTH_ALLOWED_CLIENTS names every
 * client it trusts. AUTH_ALLOWED_CLIENTS
 */
export const DEVELOPMENT_ALLOWED_CLIENTS = ['spa', 'bff'];
/** Scope the reference policy `p-user-api-auth0` requires. AUTH_REQUIRED_SCOPE */
export const REQUIRED_SCOPE = 'auth0-user-api-spa';
/**
 * Machine-to-machine clients (client_credentials, no user) whose tokens the service policy
 * `p-service-api-auth0` accepts when AUTH_ALLOWED_SERVICE_CLIENTS is unset in the development
 * profile: the embedded IdP's demo client. In production the default is none: no service may call
 * until it is named (docs/decisions/0070). AUTH_ALLOWED_SERVICE_CLIENTS
 */
export const DEVELOPMENT_ALLOWED_SERVICE_CLIENTS = ['service'];
/** Scope the service policy `p-service-api-auth0` requires. AUTH_SERVICE_SCOPE */
export const SERVICE_SCOPE = 'auth0-service-api';

/**
 * Signature algorithms accepted, asymmetric only (HS* would let anyone holding the public key forge
 * tokens; `none` is never accepted). The IdP and Auth0 both sign with RS256. AUTH_ALGORITHMS
 */
export const ALGORITHMS = ['RS256'];
export const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];
/** RSA keys shorter than this are ignored in the JWKS. */
export const MIN_RSA_MODULUS_BITS = 2048;

/**
 * JOSE `typ` values accepted (compared case-insensitively, `application/` prefix optional).
 * RFC 9068 access tokens say `at+jwt`; Auth0's default token profile says `JWT`. AUTH_TOKEN_TYPES
 */
export const TOKEN_TYPES = ['at+jwt'];
/** `jwt` (self-contained, verified locally), `reference` (opaque, introspected) or `auto` (JWS shape decides). AUTH_TOKEN_FORMAT */
export const TOKEN_FORMAT = 'auto' as const;

/** Clock skew allowed on exp, nbf and iat, in seconds: small, because access tokens live minutes. AUTH_CLOCK_TOLERANCE */
export const CLOCK_TOLERANCE_SECONDS = 5;
/** Longest Authorization header value read at all; longer ones are refused before any parsing. AUTH_MAX_TOKEN_LENGTH */
export const MAX_TOKEN_LENGTH = 4096;
/** Longest `kid` taken from a token header (it is only ever a map key, never a path or query). */
export const MAX_KID_LENGTH = 256;

/** Verified JWTs kept so a reused token skips the signature check; 0 disables the cache. AUTH_TOKEN_CACHE_SIZE */
export const TOKEN_CACHE_SIZE = 10_000;

/** How long a fetched JWKS is fresh; after that it is refreshed in the background while still used. AUTH_JWKS_MAX_AGE */
export const JWKS_MAX_AGE_SECONDS = 10 * 60;
/** An unknown `kid` may trigger a JWKS refetch at most once per this period (floods of made-up kids cost one fetch). AUTH_JWKS_COOLDOWN */
export const JWKS_COOLDOWN_SECONDS = 10;
/**
 * Within a cooldown, a kid that has not made us refetch yet may still do so at once (a key the IdP
 * has just published), this many times per cooldown, so floods of made-up kids stay bounded.
 */
export const JWKS_NEW_KID_REFETCHES_PER_COOLDOWN = 3;
/**
 * The last verified discovery document and JWKS are kept in API_DATA_DIR, and an API started while
 * the IdP is unreachable validates with them if they are at most this old (0: nothing kept).
 * A key retired at the IdP stays usable this long at most when the IdP is down at start-up. AUTH_JWKS_CACHE_MAX_AGE
 */
export const JWKS_CACHE_MAX_AGE_SECONDS = 24 * 3600;
/** File name of that copy in API_DATA_DIR. */
export const JWKS_CACHE_FILE = 'issuer-keys.json';
/** Timeout of every request to the IdP (discovery, JWKS, introspection). */
export const IDP_REQUEST_TIMEOUT_MS = 5_000;
/** Largest discovery document, JWKS or introspection response read from the IdP. */
export const IDP_MAX_RESPONSE_BYTES = 256 * 1024;
/** Retry delays while the issuer's metadata and keys cannot be loaded at start-up (doubling, capped). */
export const METADATA_RETRY_MIN_MS = 250;
export const METADATA_RETRY_MAX_MS = 10_000;

/** Client the API authenticates as when introspecting reference tokens (client_secret_basic). API_CLIENT_ID */
export const INTROSPECTION_CLIENT_ID = 'api';
/** Development secret of the `api` client, the same default as the embedded IdP's. API_CLIENT_SECRET */
export const INTROSPECTION_CLIENT_SECRET = 'dev-api-secret-change-me';
/**
 * An active introspection result is reused until the token's exp or this bound, whichever is first:
 * the bound is how long a revoked reference token may still be accepted. AUTH_INTROSPECTION_CACHE_TTL
 */
export const INTROSPECTION_CACHE_TTL_SECONDS = 30;
/** Inactive results are remembered this long so a replayed dead token costs one introspection. */
export const INTROSPECTION_NEGATIVE_TTL_SECONDS = 30;
/** Tokens introspected active, remembered until their exp (reused within the TTL above). */
export const INTROSPECTION_CACHE_SIZE = 10_000;
/**
 * Tokens introspected and refused, remembered for INTROSPECTION_NEGATIVE_TTL_SECONDS in a bound of
 * their own: a flood of made-up tokens never pushes an active token's result out (decision 0057).
 */
export const INTROSPECTION_NEGATIVE_CACHE_SIZE = 10_000;
/** Introspection calls in flight at once; more are refused with 503 instead of flooding the IdP. */
export const INTROSPECTION_MAX_IN_FLIGHT = 64;
/**
 * Of those, the most that tokens never introspected active may hold: the rest are kept for tokens
 * the IdP called active before (until their exp), so that a flood of made-up tokens cannot keep a
 * signed-in user's token from being checked again (decision 0057).
 */
export const INTROSPECTION_MAX_IN_FLIGHT_UNKNOWN = 48;
/**
 * Shortest reference token introspected: RFC 6749 §10.10 requires a guess to succeed with a
 * probability of at most 2^-128, and an RFC 6750 b64token carries at most 6 bits per character,
 * so no conforming reference token is shorter (the embedded IdP's have 43 characters, 256 bits).
 * A shorter one is refused as malformed before any call (decision 0057).
 */
export const REFERENCE_TOKEN_MIN_LENGTH = 22;
/**
 * After a failed introspection call (IdP down, timing out, refusing our credentials), uncached
 * reference tokens are answered 503 with Retry-After for this long without asking the IdP; then
 * one call probes it again.
 */
export const INTROSPECTION_BREAKER_OPEN_SECONDS = 5;

/** Browser origins allowed by CORS (the SPA). API_CORS_ORIGINS */
export const CORS_ORIGINS = ['http://localhost:4200'];
/** How long browsers may cache a preflight answer. */
export const CORS_MAX_AGE_SECONDS = 600;

/** Public client Swagger UI signs in with (authorization code + PKCE). API_SWAGGER_CLIENT_ID */
export const SWAGGER_CLIENT_ID = 'swagger';

/**
 * Longest path parameter the router matches. Fastify's default (100) makes the router answer a
 * longer one (400) before any hook runs, so an anonymous caller could tell a parametric route
 * from an unknown path; at this length (Node's whole header limit) the router never refuses, and
 * each route's schema bounds its parameters after authentication (decision 0037).
 */
export const ROUTER_MAX_PARAM_LENGTH = 16 * 1024;

/** Largest request body accepted (notes are at most 1000 characters). */
export const BODY_LIMIT_BYTES = 16 * 1024;
/** Longest note text, in characters. */
export const NOTE_MAX_LENGTH = 1000;
/** Notes one user may keep; more are refused with 409 so one account cannot fill the disk. */
export const NOTES_PER_USER_MAX = 1000;

/** Time given to in-flight requests on SIGTERM before the process exits anyway (exit code 1). */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The whole request, headers and body, must arrive within this: a client trickling its body is
 * dropped (408) instead of holding a connection open (ASVS 15.2.2). API_REQUEST_TIMEOUT
 */
export const REQUEST_TIMEOUT_SECONDS = 30;
/**
 * Strict-Transport-Security max-age, sent on every answer when API_PUBLIC_URL is https:// and never
 * when it is http:// (docs/decisions/0059): one year, so a browser that once reached the app over
 * https never again sends it a request, cookies included, in clear text. 0 tells browsers to
 * forget an earlier policy. API_HSTS_MAX_AGE
 */
export const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/** Slow clients cannot hold a connection open: whole request within 30 s, headers within 10 s; idle keep-alive 5 s. */
export const HTTP_TIMEOUTS: HttpTimeouts = { requestTimeout: REQUEST_TIMEOUT_SECONDS * 1000, headersTimeout: 10_000, keepAliveTimeout: 5_000 };

/**
 * Refusals logged one by one per reason and window; beyond that they are counted and the counts
 * written once per window, so a client hammering the API without a token (or with forged ones)
 * cannot flood the log. API_REFUSAL_LOG_LINES
 */
export const REFUSAL_LOG_LINES_PER_REASON = 10;
export const REFUSAL_LOG_WINDOW_SECONDS = 60;
/**
 * Retry-After of a notes request the SQLite database cannot serve now (disk full, read-only, its
 * file deleted or replaced under the process): 503, an outage rather than a 500.
 */
export const STORE_OUTAGE_RETRY_AFTER_SECONDS = 5;

/**
 * SQLite durability of the notes store by profile: WAL + synchronous=NORMAL survives a killed
 * process (SIGKILL) but a power cut may lose the last commits (a note answered 201 gone, a deleted
 * one back); FULL fsyncs each commit and loses none. API_SQLITE_SYNCHRONOUS.
 * See docs/decisions/0063-acknowledged-writes-survive-a-power-cut.md
 */
export const SQLITE_SYNCHRONOUS = { development: 'NORMAL', production: 'FULL' } as const;
