// Every security-relevant default of the Backend-for-Frontend, in one place. Each can be overridden
// by the environment variable named beside it (see config.ts and the README's configuration table).

import type { HttpTimeouts } from '@suite/process-shell';

/** The embedded IdP; an Auth0 tenant is `https://<tenant>.auth0.com/`. Only discovery is used. BFF_AUTHORITY */
export const AUTHORITY = 'http://localhost:4400';
/** Confidential client registered at the IdP (client_secret_basic). BFF_CLIENT_ID */
export const CLIENT_ID = 'bff';
/** The embedded IdP's development secret of the `bff` client; refused with BFF_PROFILE=production. BFF_CLIENT_SECRET */
export const DEV_CLIENT_SECRET = 'dev-bff-secret-change-me';
/** API identifier sent as Auth0's `audience`. BFF_AUDIENCE */
export const AUDIENCE = 'https://auth0-api-spa';
/** `offline_access` asks for a refresh token; the last scope is the API's permission. BFF_SCOPE */
export const SCOPE = 'openid profile offline_access auth0-user-api-spa';
/** The only upstream `/api/*` is proxied to. BFF_API_URL */
export const API_URL = 'http://localhost:5001';

/** Port of the BFF; its public origin defaults to http://localhost:PORT. BFF_PORT, BFF_PUBLIC_URL */
export const PORT = 4300;
/** Path of the callback at the BFF's origin; registered at the IdP as PUBLIC_URL + this. */
export const CALLBACK_PATH = '/bff/callback';

/**
 * Session cookie. `__Host-` makes the browser refuse it unless Secure, Path=/ and without Domain,
 * so no sibling subdomain can set or shadow it. The value is only a random 256-bit id.
 */
export const SESSION_COOKIE = '__Host-bff-session';
/**
 * Prefix of the cookies holding the logins in progress, one per login (docs/decisions/0071): the
 * login's state, nonce, PKCE verifier, returnTo and expiry sealed (AES-256-GCM) under a key of
 * their own, in the browser that started the login, never in the session store. `__Host-`: Secure,
 * Path=/, no Domain, so no sibling subdomain can set one; Lax, because it has to come back on the
 * IdP's cross-site redirect to the callback (a top-level GET: the BFF asks for the query
 * response_mode, never form_post), which SameSite=Strict would prevent; Max-Age BFF_LOGIN_TTL.
 */
export const LOGIN_COOKIE_PREFIX = '__Host-bff-login-';
/**
 * HKDF info deriving the login cookies' key from each token key (BFF_TOKEN_KEYS): one key per
 * purpose, so a token record of the store never opens as a login cookie nor the reverse. A new
 * label (v2) makes every login in flight fail as expired, as does removing a token key.
 */
export const LOGIN_COOKIE_KEY_INFO = 'bff login cookie v1';
/**
 * SameSite of the session cookie. Strict: every request that needs the session is a same-site
 * fetch from the SPA's own page (a cross-site top-level navigation loads only static files),
 * so a request started by another site never carries it. The login cookie is always Lax.
 * BFF_SESSION_COOKIE_SAMESITE
 */
export const SESSION_COOKIE_SAMESITE = 'strict' as const;
/** Bytes of randomness in a session id, a login binding and `state`/`nonce`: 256 bits. */
export const RANDOM_ID_BYTES = 32;

/**
 * How /bff/logout names the session it ends to the IdP's end-session endpoint, so that the IdP ends
 * its own session without asking the user (docs/decisions/0066). `sid`: `client_id` and
 * `logout_hint` = the IdP session id of the ID token (Auth0 and the embedded IdP accept it): no
 * token passes through the browser. `id_token`: the ID token as `id_token_hint`, for an IdP that
 * ignores `logout_hint` (it would ask the user); the ID token then lands in the browser's history
 * and the IdP's access log. A session without a sid is always named by its ID token. BFF_LOGOUT_HINT
 */
export const LOGOUT_HINT = 'sid' as const;
/** A login must come back from the IdP within this many seconds. BFF_LOGIN_TTL */
export const LOGIN_TTL_SECONDS = 600;
/**
 * Logins one browser may have pending (tabs signing in at once): `/bff/login` keeps the newest
 * ones and deletes the others' cookies, whose callbacks then fail as expired ones.
 */
export const MAX_PENDING_LOGINS_PER_BROWSER = 10;
/**
 * Bytes all of a browser's login cookies may take together (names and values): `/bff/login`
 * deletes the oldest beyond it. Each cookie goes along with every request to the BFF while its
 * login is pending, and Node refuses requests whose headers pass 16 KB (431): a site sending the
 * browser to /bff/login again and again with long returnTo values must not make the BFF refuse
 * that browser. One login alone always fits (returnTo is at most MAX_RETURN_TO_LENGTH).
 */
export const LOGIN_COOKIES_MAX_BYTES = 8 * 1024;
/** Longest returnTo kept, as received and as sent back (longer ones return to `/`). */
export const MAX_RETURN_TO_LENGTH = 2048;
/**
 * A callback holds a lock named after its state in the session store while it exchanges the code,
 * so that two callbacks with the same state and cookie (a replay racing the original) never both
 * reach the IdP (a code presented twice makes the IdP revoke what it issued for it). Locks leave
 * nothing behind once released; a crashed holder's lock frees itself after the TTL. Past the wait,
 * the callback fails as a used one.
 */
export const CALLBACK_LOCK_TTL_MS = 60_000;
export const CALLBACK_LOCK_WAIT_MS = 10_000;
/** A session unused for this long ends (sliding: every authenticated request extends it). BFF_SESSION_IDLE_TTL */
export const SESSION_IDLE_TTL_SECONDS = 8 * 3600;
/** A session ends this long after the login whatever its use. BFF_SESSION_ABSOLUTE_TTL */
export const SESSION_ABSOLUTE_TTL_SECONDS = 24 * 3600;
/**
 * The stored last-seen time is written at most once per this many seconds, so an API call does
 * not cost a store write; the idle timeout is precise to this much.
 */
export const SESSION_TOUCH_INTERVAL_SECONDS = 60;
/**
 * Decrypted sessions each instance keeps in memory (0: none, every request reads the store).
 * No window: a session ended anywhere stops working here at once. Its own store tells the cache
 * what it changes; before a kept session is used, SQLite's `PRAGMA data_version` says whether
 * another connection wrote (then all are forgotten), and Redis is asked whether the session still
 * exists (see docs/decisions/0016). Tokens in memory are what every request decrypts anyway.
 * BFF_SESSION_CACHE_SIZE
 */
export const SESSION_CACHE_SIZE = 10_000;

/** Access-token lifetime assumed when the token endpoint does not say (expires_in missing). */
export const ASSUMED_ACCESS_TOKEN_TTL_SECONDS = 60;
/**
 * Retry-After of a renewal the IdP refused the BFF itself (invalid_client, unauthorized_client...):
 * a misconfiguration an operator must fix, not an outage of seconds. The session is kept and an
 * error logged (docs/decisions/0048).
 */
export const IDP_REFUSED_RETRY_AFTER_SECONDS = 60;
/** Renew the access token this many seconds before it expires. BFF_RENEW_BEFORE_EXPIRY */
export const RENEW_BEFORE_EXPIRY_SECONDS = 30;
/**
 * Longest hold of a session's refresh lock in a shared store; a crashed holder's lock frees
 * itself after this. A refresh at the IdP takes milliseconds.
 */
export const REFRESH_LOCK_TTL_MS = 15_000;
/** Longest wait for another instance's refresh of the same session before giving up (503). */
export const REFRESH_LOCK_WAIT_MS = 10_000;
/**
 * Longest wait of a logout for the IdP's answer to the refresh token's revocation. The session is
 * already gone here by then; past it the logout answers, the revocation goes on and its outcome is
 * logged (the end-session at the IdP revokes the grant too). Without it an IdP that never answers
 * held the logout for openid-client's 30 s.
 */
export const LOGOUT_REVOCATION_WAIT_MS = 5_000;

/**
 * Token encryption at rest: AES-256-GCM, 96-bit random IV, the session's key as additional
 * data (a ciphertext copied to another session does not decrypt). Keys from BFF_TOKEN_KEYS,
 * newest first; older keys only decrypt (rotation).
 */
export const TOKEN_CIPHER = 'aes-256-gcm' as const;
export const TOKEN_KEY_BYTES = 32;

/** Header every state-changing or data call must carry (see the CSRF plugin). */
export const CSRF_HEADER = 'x-csrf';
export const CSRF_HEADER_VALUE = '1';
/** `/bff/*` routes reachable without the CSRF header: top-level navigations and the IdP's server-to-server call. */
export const CSRF_EXEMPT_PATHS = ['/bff/login', '/bff/callback', '/bff/backchannel'] as const;

/**
 * Request headers forwarded to the API: an allowlist, so the browser's Cookie, any Authorization
 * it sent, Origin and the CSRF header never reach the API.
 */
export const FORWARDED_REQUEST_HEADERS = [
  'accept', 'accept-encoding', 'accept-language', 'content-type', 'content-length', 'if-match', 'if-none-match',
  'if-modified-since', 'if-unmodified-since', 'user-agent', 'traceparent', 'tracestate', 'x-request-id',
] as const;
/**
 * Methods forwarded to the API with the session's token; any other (TRACE, whose answer echoes the
 * request and so the bearer token; QUERY) is answered 405 here. These are the methods a page's
 * fetch can send and the API serves.
 */
export const PROXIED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/**
 * Response headers of the API never passed to the browser: the BFF's origin keeps its own cookies
 * and no CORS, and a header that speaks for a whole origin (its HTTPS policy, what to clear of it,
 * where else it is served, where its network errors and requests are reported, whether the user
 * is signed in at it, how far a service worker of it may reach) is the BFF's to say, not the
 * API's: an https API's Strict-Transport-Security forwarded by an http BFF would make the BFF's
 * host (localhost's every port) https-only, and an API's NEL with Report-To would have the browser
 * report the URL of every request to the BFF's origin (the callback's code among them) to the
 * API's collector for the policy's max_age.
 */
export const DROPPED_RESPONSE_HEADERS = ['set-cookie', 'access-control-allow-origin', 'access-control-allow-credentials',
  'access-control-expose-headers', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-max-age',
  'strict-transport-security', 'clear-site-data', 'alt-svc', 'nel', 'report-to', 'set-login', 'service-worker-allowed'] as const;
/**
 * Cache-Control directives with which the API lets a shared cache keep its answer to a request
 * bearing a token (RFC 9111 §3.5). The browser's request to the BFF bears a cookie instead, which
 * gives a shared cache in front of the BFF (a CDN, a caching reverse proxy) no such pause: any
 * other cacheable answer of the API (`max-age=60` alone) is sent on with `private` added, so one
 * user's answer is never kept and served to another. `private` and `no-store` need nothing added.
 */
export const SHARED_CACHE_DIRECTIVES = ['public', 's-maxage', 'must-revalidate', 'private', 'no-store'] as const;
/**
 * Set on every answer of the BFF itself and on every answer of the API it forwards (over the
 * API's own); `cache-control: no-store` too unless the answer has its own (then `private` added
 * unless SHARED_CACHE_DIRECTIVES names one of its directives).
 */
export const ANSWER_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' } as const;

/** ANSWER_HEADERS, with Strict-Transport-Security when the public URL is https:// (decision 0059). */
export function answerHeaders(strictTransportSecurity: string | undefined): Readonly<Record<string, string>> {
  return strictTransportSecurity === undefined ? ANSWER_HEADERS : { ...ANSWER_HEADERS, 'strict-transport-security': strictTransportSecurity };
}
/** Keep-alive connections the BFF opens to the API at most. */
export const API_CONNECTIONS = 128;
/** Largest request body forwarded (by its Content-Length; a chunked body meets the API's own limit). */
export const BODY_LIMIT_BYTES = 64 * 1024;
/**
 * `/bff/login` opens a connection to the IdP's token endpoint for the callback's code exchange
 * (IdpClient.warmTokenEndpoint), at most once per this many ms: logins closer together find the
 * connection open anyway.
 */
export const TOKEN_ENDPOINT_WARMUP_INTERVAL_MS = 1_000;
/** Seconds to wait for the API's answer. */
export const API_TIMEOUT_MS = 30_000;

/**
 * Back-channel logout tokens: signed by the IdP with an asymmetric algorithm from this list
 * (never `none` or an HMAC), issued at most this many seconds ago, with this much clock skew
 * tolerated on iat/exp. Each `jti` is remembered in the session store until the token could no
 * longer be accepted, so a replay is refused on every instance. BFF_BACKCHANNEL_MAX_AGE, BFF_CLOCK_TOLERANCE
 */
export const BACKCHANNEL_ALGORITHMS = ['RS256', 'PS256', 'ES256'] as const;
export const BACKCHANNEL_MAX_AGE_SECONDS = 120;
export const CLOCK_TOLERANCE_SECONDS = 10;
/** Largest back-channel logout request read (a logout token is well under 2 kB). */
export const BACKCHANNEL_BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Strict-Transport-Security max-age, sent on every answer when BFF_PUBLIC_URL is https:// and never
 * when it is http:// (docs/decisions/0059): one year, so a browser that once reached the app over
 * https never again sends it a request, cookies included, in clear text. 0 tells browsers to
 * forget an earlier policy. BFF_HSTS_MAX_AGE
 */
export const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/** Slow clients cannot hold a connection open: whole request within 30 s, headers within 10 s; idle keep-alive 5 s. */
export const HTTP_TIMEOUTS: HttpTimeouts = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 };
/** Time given to in-flight requests on SIGTERM before the process exits anyway (exit code 1). */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Redis persistence the BFF needs when it keeps sessions there: an append-only file written and
 * fsynced before each answer (appendfsync always). everysec may answer writes it has not written
 * yet, and a Redis crash then loses up to 2 s of them: a logged-out session back, a rotated refresh
 * token forgotten (the next refresh presents the used one and the IdP revokes the login)
 * (docs/decisions/0011-durable-redis.md, 0063-acknowledged-writes-survive-a-power-cut.md). BFF_REDIS_DURABILITY_CHECK
 */
export const REDIS_DURABLE_APPENDFSYNC = ['always'] as const;
/**
 * The only Redis maxmemory-policy the BFF accepts (docs/decisions/0053-redis-must-not-evict.md): any
 * other deletes keys when memory runs short: a session (the user signed out), a login's state, the
 * remembered id of a back-channel logout token (a replay is accepted again). noeviction refuses the
 * write instead. BFF_REDIS_DURABILITY_CHECK
 */
export const REDIS_MAXMEMORY_POLICY = ['noeviction'] as const;
/**
 * Retry-After of a request the SQLite session store cannot serve now (disk full, read-only, its
 * file deleted or replaced under the process): 503, an outage rather than a 500.
 */
export const STORE_OUTAGE_RETRY_AFTER_SECONDS = 5;

/**
 * SQLite durability of the session store by profile: WAL + synchronous=NORMAL survives a killed
 * process (SIGKILL) but a power cut may lose the last commits (a logout: the session back; a
 * rotated refresh token: the next refresh presents the used one and the IdP ends the login; a
 * back-channel logout token's id: a replay accepted); FULL fsyncs each commit and loses none.
 * BFF_SQLITE_SYNCHRONOUS. See docs/decisions/0063-acknowledged-writes-survive-a-power-cut.md
 */
export const SQLITE_SYNCHRONOUS = { development: 'NORMAL', production: 'FULL' } as const;

// The SPA's pages and files in BFF mode: the same CSP (connect-src 'self' only: every call goes
// through the BFF's origin), Trusted Types (decision 0072), security headers and caching rule as
// the SPA's own server, from the one hosting package both use.
export { contentSecurityPolicy, SECURITY_HEADERS, TRUSTED_TYPES_POLICIES } from '@suite/spa-hosting';
