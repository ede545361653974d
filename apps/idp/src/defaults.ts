// Every security-relevant default of the identity provider, in one place. Each can be overridden
// by the environment variable named beside it (see config.ts and the README's configuration table).

import type { HttpTimeouts } from '@suite/process-shell';
import { ROUTES } from './routes.ts';

/** Access tokens for the API: short, because JWTs cannot be revoked. IDP_ACCESS_TOKEN_TTL */
export const ACCESS_TOKEN_TTL_SECONDS = 5 * 60;
/** ID tokens are read once by the client at login. IDP_ID_TOKEN_TTL */
export const ID_TOKEN_TTL_SECONDS = 5 * 60;
/** Authorization codes are redeemed within seconds; one minute absorbs slow networks. */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60;
/** Absolute refresh-token lifetime: rotation never extends past it (Auth0's default is 30 days). IDP_REFRESH_TOKEN_ABSOLUTE_TTL */
export const REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS = 30 * 24 * 3600;
/** Idle lifetime: an unused refresh token dies after this (Auth0's default is 15 days). IDP_REFRESH_TOKEN_IDLE_TTL */
export const REFRESH_TOKEN_IDLE_TTL_SECONDS = 15 * 24 * 3600;
/** IdP login session (the cookie-backed SSO session). IDP_SESSION_TTL */
export const SESSION_TTL_SECONDS = 24 * 3600;
/** An interaction (login page) must be finished within this. */
export const INTERACTION_TTL_SECONDS = 10 * 60;
/**
 * Cookie holding the browser key every login in progress is bound to (interaction-binding.ts,
 * docs/decisions/0055): random, HttpOnly, SameSite=Lax, kept for INTERACTION_TTL_SECONDS, and on an
 * https issuer named `__Host-` + this (Secure, Path=/, no Domain), so that no other host and no
 * plain-http answer can set it in a victim's browser.
 */
export const LOGIN_BROWSER_COOKIE = 'login-browser';

/** JWS algorithm of signing keys, ID tokens and JWT access tokens (Auth0 signs with RS256). IDP_SIGNING_ALG */
export const SIGNING_ALG = 'RS256' as const;
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
/** RSA modulus length for generated RS256 keys. */
export const RSA_MODULUS_BITS = 2048;

/** Access-token format for the API resource: `jwt` (self-contained) or `opaque` (reference, introspected). IDP_ACCESS_TOKEN_FORMAT */
export const ACCESS_TOKEN_FORMAT = 'jwt' as const;

/**
 * Shape of JWT access tokens, Auth0's two profiles (docs/decisions/0008): `rfc9068` (typ at+jwt,
 * client_id, jti) or `auth0` (typ JWT, azp). A resource's `token_profile` in the clients file
 * overrides it. IDP_ACCESS_TOKEN_PROFILE
 */
export const ACCESS_TOKEN_PROFILES = ['rfc9068', 'auth0'] as const;
export type AccessTokenProfile = (typeof ACCESS_TOKEN_PROFILES)[number];
export const ACCESS_TOKEN_PROFILE: AccessTokenProfile = 'rfc9068';

/** Password hashing: Argon2id at OWASP's minimum (m=19 MiB, t=2, p=1). See docs/decisions/0001-password-hashing.md */
export const PASSWORD_HASH = { algorithm: 'argon2id', memoryKiB: 19 * 1024, passes: 2, parallelism: 1, tagLength: 32, saltLength: 16 } as const;
/**
 * The shortest password `npm run hash-password` hashes (NIST SP 800-63B's minimum for a chosen
 * password). The tool's own check: the IdP checks hashes, it never sees a password set. Override:
 * a hash made elsewhere (another tool) is accepted in the users file whatever its password.
 */
export const PASSWORD_MIN_LENGTH = 8;
/**
 * How often, at most, the users file is looked at for a change (when a user is looked up): a user
 * removed or a password changed in the file takes effect within this time on every instance,
 * without a restart. A stat of one file per second; the file is read again only when it changed.
 */
export const USERS_FILE_CHECK_INTERVAL_MS = 1000;

/**
 * Login throttling (docs/decisions/0005-login-throttling.md). Hard limits count per username and
 * client address together and per address, so nobody elsewhere can lock a user out; per username
 * alone, attempts past `slowAfter` are only slowed down. Every attempt is counted before its
 * password is checked; a success gives it back. Addresses are counted in one spelling: IPv4-mapped
 * IPv6 as IPv4, without a port, IPv6 by network (client-address.ts).
 */
export const LOGIN_THROTTLE = {
  /** Fixed window in which attempts are counted. IDP_LOGIN_WINDOW */
  windowSeconds: 15 * 60,
  /** Failed attempts for one username from one address before 429 until the window ends. IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP */
  maxFailuresPerUserAndIp: 10,
  /** Failed attempts from one address, across usernames, before 429. IDP_LOGIN_MAX_FAILURES_PER_IP */
  maxFailuresPerIp: 30,
  /** Failures for a username (from any address) after which each further attempt is delayed. IDP_LOGIN_SLOW_AFTER */
  slowAfter: 3,
  /** Delay of the first slowed attempt, doubling per further failure. */
  baseDelayMs: 250,
  /** Longest delay of one attempt. IDP_LOGIN_MAX_DELAY_MS */
  maxDelayMs: 2000,
  /**
   * An IPv6 client is counted by its network of this many bits, what one customer or one cloud
   * machine is given: its other 2^64 addresses are the same client (docs/decisions/0036).
   */
  ipv6PrefixBits: 64,
} as const;

/**
 * How a username is compared and counted (docs/decisions/0045): in Unicode normalisation form NFKC
 * (a name typed decomposed, "zoe" + U+0308, or in full width from an input method, "ｚｏë", is
 * the name written composed and in ASCII), without surrounding white space, in lower case. The
 * users file, the login and the login throttle use this one key (users.ts usernameKey), so two
 * users of one key are refused at start-up and every spelling of a name shares its counters.
 */
export const USERNAME_NORMALIZATION_FORM = 'NFKC' as const;

/**
 * Longest username the login page takes (its field's maxlength, and what a submitted one is cut
 * to). An authorization request's login_hint prefills the field only up to it, escaped, without
 * control characters (docs/decisions/0052).
 */
export const USERNAME_MAX_LENGTH = 128;

/** Largest login form body read; anything bigger is refused with 413 before parsing. */
export const LOGIN_FORM_MAX_BYTES = 16 * 1024;
/**
 * Largest answer to the sign-out page read (its xsrf field and `logout`), refused past it. Only an
 * answer saying `logout` signs out; any other ends nothing (docs/decisions/0055).
 */
export const LOGOUT_FORM_MAX_BYTES = 16 * 1024;
/**
 * Auth0's token and revocation endpoints take a JSON body as well as a form (node-auth0 revokes
 * with JSON): only these two, only an object of strings, at most oidc-provider's own body limit
 * (docs/decisions/0040).
 */
export const JSON_BODY_ROUTES: ReadonlySet<string> = new Set([ROUTES.token, ROUTES.revocation]);
export const JSON_BODY_MAX_BYTES = 56 * 1024;

/**
 * Strict-Transport-Security max-age, sent on every answer when the issuer (IDP_ISSUER) is https:// and never
 * when it is http:// (docs/decisions/0059): one year, so a browser that once reached the app over
 * https never again sends it a request, cookies included, in clear text. 0 tells browsers to
 * forget an earlier policy. IDP_HSTS_MAX_AGE
 */
export const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/**
 * The endpoints OpenID Connect requires to take POST as well as GET (authorization, end session):
 * a form post to them is answered with a 303 to the same endpoint with the form as its query, so
 * the IdP's cookies stay SameSite=Lax (docs/decisions/0052). At most this many bytes of form: the
 * query must fit in a request line (Node reads at most 16 KiB of headers).
 */
export const POST_AS_GET_ROUTES: ReadonlySet<string> = new Set([ROUTES.authorization, ROUTES.end_session]);
export const POST_AS_GET_MAX_BYTES = 8 * 1024;

/** Slow clients cannot hold a connection open: whole request within 30 s, headers within 10 s; idle keep-alive 5 s. */
export const HTTP_TIMEOUTS: HttpTimeouts = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 };
/** Time given to in-flight requests on SIGTERM before the process exits anyway (exit code 1). */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Shortest IDP_COOKIE_KEYS item accepted: each key signs the session and interaction cookies, so a
 * short one could be guessed offline from one signed cookie (decision 0039). The key generated
 * when the variable is unset (development) is 32 random bytes.
 */
export const COOKIE_KEY_MIN_LENGTH = 32;

/**
 * Shortest client secret accepted (docs/decisions/0073): a secret is the whole of a confidential
 * client's authentication, and the token, revocation and introspection endpoints count no failed
 * attempts (a count per client would let anyone lock a client out), so it must be too strong to
 * guess online. 32 characters is 128 bits as hex, 192 as base64 (`openssl rand -base64 32` gives
 * 44). Development keeps the published development secrets' floor; production refuses those
 * secrets whatever variable holds them. Not configurable: a lower floor is the fault itself.
 */
export const CLIENT_SECRET_MIN_LENGTH = { development: 16, production: 32 } as const;
/**
 * Fewest different characters a production secret (client secret, IDP_COOKIE_KEYS item) may be
 * made of: 'k'.repeat(32) or a word repeated to length passes a length check alone. A random hex
 * secret of 32 characters has 8 or more (of a million drawn, none had fewer; 3 had exactly 8).
 */
export const SECRET_MIN_DISTINCT_CHARACTERS = 8;

/**
 * private_key_jwt (docs/decisions/0077): the algorithms a client assertion may be signed with, as
 * Auth0 offers them for a credential (RS256, PS256) plus ES256; never `none` or an HMAC (a public
 * key used as an HMAC secret). A client may pin one with token_endpoint_auth_signing_alg.
 */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256'] as const;
/**
 * Longest life of a client assertion (exp past iat, and past now): Auth0's own limit, 5 minutes.
 * Each assertion's jti is kept until its exp, so a longer one would only be a longer replay window
 * and more rows. The SDKs sign for 1 (openid-client) or 2 minutes (auth0).
 */
export const CLIENT_ASSERTION_MAX_LIFETIME_SECONDS = 5 * 60;
/** Smallest RSA modulus of a client's registered key (NIST's floor, as the IdP's own keys). */
export const CLIENT_KEY_MIN_RSA_BITS = 2048;

/** oidc-provider's names of the IdP's cookies, kept over http:// (development). */
export const IDP_COOKIE_NAMES = { session: '_session', interaction: '_interaction', resume: '_interaction_resume' } as const;
/**
 * The session cookie's name with an https:// issuer: `__Host-` prefixed, so no sibling host can set
 * one for the parent domain and no path can put one ahead of it (cookie-names.ts, decision 0060).
 */
export const IDP_HOST_SESSION_COOKIE = '__Host-idp-session';

/** Cookies of the IdP: HttpOnly, SameSite=Lax (the login form posts back to us; the code redirect is top-level), signed. */
export const COOKIE_OPTIONS = { httpOnly: true, sameSite: 'lax', signed: true } as const;

/**
 * Content-Security-Policy of every IdP page: no script but hashed inline auto-submit forms, never
 * framed. Forms may only post to the IdP itself and, because browsers apply form-action to the
 * redirect that follows a post, to the registered clients' origins.
 */
export function contentSecurityPolicy(clientOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action 'self' ${clientOrigins.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * First path segments of the pages a popup login passes through: the authorization endpoint (its
 * resume redirect and its web_message answer too) and the login page. A popup keeps
 * `window.opener` only while no response on its way sends a Cross-Origin-Opener-Policy other than
 * unsafe-none, so these send unsafe-none; every other response sends same-origin. Framing stays
 * refused everywhere (frame-ancestors 'none', X-Frame-Options DENY) but on web_message answers
 * (WEB_MESSAGE_ROUTES). See
 * docs/decisions/0014-popup-logins-and-opener-policy.md
 */
export const POPUP_PATH_SEGMENTS: ReadonlySet<string> = new Set([ROUTES.authorization.split('/')[1]!, 'interaction']);

export function openerPolicy(path: string): 'unsafe-none' | 'same-origin' {
  return POPUP_PATH_SEGMENTS.has(path.split('/')[1] ?? '') ? 'unsafe-none' : 'same-origin';
}

/**
 * The oidc-provider routes whose web_message answer (a popup's, or the hidden iframe's of Auth0's
 * SPA SDK silent login) may be framed, by the origin of the client's registered redirect URI the
 * answer posts to and by no other (Auth0: the client's Allowed Web Origins). Every other response,
 * the login page included, refuses framing. See docs/decisions/0041-silent-login-iframe-for-the-redirect-origin.md
 */
export const WEB_MESSAGE_ROUTES: ReadonlySet<string> = new Set(['authorization', 'resume']);

/**
 * SQLite durability by profile: WAL + synchronous=NORMAL survives a killed process (SIGKILL) but a
 * power cut may lose the last commits (a used code's or refresh token's mark: a replay gets
 * through; a rotation: the user signed out); FULL fsyncs each commit and loses none. Production
 * keeps every acknowledged write; development skips the fsync. IDP_SQLITE_SYNCHRONOUS
 * See docs/decisions/0063-acknowledged-writes-survive-a-power-cut.md
 */
export const SQLITE_SYNCHRONOUS = { development: 'NORMAL', production: 'FULL' } as const;

/**
 * How long a back-channel logout post may take before the IdP gives up on it (the end-session
 * answer waits for it): oidc-provider's own fixed bound, made configurable so that a test on a
 * slow machine can allow more. IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS
 */
export const BACKCHANNEL_LOGOUT_TIMEOUT_MS = 2500;

/** How often each instance re-reads the signing keys, picking up a rotation made elsewhere. IDP_KEY_RELOAD_INTERVAL */
export const KEY_RELOAD_INTERVAL_SECONDS = 30;

/** How long a retired signing key stays in the JWKS: longer than any token it signed can live. */
export function retiredKeyGraceSeconds(accessTokenTtl: number, idTokenTtl: number): number {
  return Math.max(accessTokenTtl, idTokenTtl) + 5 * 60;
}

/**
 * Refresh-token reuse interval (Auth0's "reuse interval", Okta's "grace period"): a retry with the
 * previous refresh token within this many seconds of its rotation, while its successor has not
 * been used, gets a new successor instead of revoking the login; a response lost to a crash or a
 * network failure then does not sign the user out. 0 turns it off. IDP_REFRESH_TOKEN_REUSE_INTERVAL
 * See docs/decisions/0010-refresh-token-reuse-interval.md
 */
export const REFRESH_TOKEN_REUSE_INTERVAL_SECONDS = 30;

/** The API's default AUTH_JWKS_COOLDOWN: the longest an API may wait before refetching the JWKS for an unknown kid. */
export const API_JWKS_COOLDOWN_SECONDS = 10;
/**
 * Clock difference tolerated between instances: when they compare a key's activation time, and
 * for times in the store: a login window or a refresh token's use stamped further ahead of this
 * instance's clock than this was stamped before the clock stepped back, and is judged stale
 * instead of stretching the window by the step (docs/decisions/0044).
 */
export const INSTANCE_CLOCK_SKEW_SECONDS = 5;
/**
 * A rotated-in signing key is published at once and signs only this many seconds later: by then
 * every instance has reloaded its keys (IDP_KEY_RELOAD_INTERVAL) and every API that fetched the
 * JWKS before may refetch it (its JWKS cooldown). IDP_KEY_ACTIVATION_DELAY
 * See docs/decisions/0009-signing-key-rotation.md
 */
export const KEY_ACTIVATION_DELAY_SECONDS = KEY_RELOAD_INTERVAL_SECONDS + API_JWKS_COOLDOWN_SECONDS + INSTANCE_CLOCK_SKEW_SECONDS;

/**
 * Redis persistence the IdP needs: an append-only file written and fsynced before each answer
 * (appendfsync always). everysec answers writes it may not have written yet while an fsync is slow,
 * and a Redis crash then loses up to 2 s of them: used codes and refresh tokens accepted again,
 * rotations lost (docs/decisions/0011-durable-redis.md, 0063-acknowledged-writes-survive-a-power-cut.md).
 * IDP_REDIS_DURABILITY_CHECK
 */
export const REDIS_DURABLE_APPENDFSYNC = ['always'] as const;
/**
 * The only Redis maxmemory-policy the IdP accepts (docs/decisions/0053-redis-must-not-evict.md): any
 * other deletes keys when memory runs short (a used code's mark, a refresh token's, a session, the
 * signing keys) and a replay then succeeds; noeviction refuses the write, which answers 503.
 */
export const REDIS_MAXMEMORY_POLICY = ['noeviction'] as const;

/** How long a statement waits for another connection's write (another process on the file) before failing "database busy". */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;
/** Expired rows are deleted at start-up and this often. */
export const SQLITE_SWEEP_INTERVAL_SECONDS = 5 * 60;
/** Expired rows are kept this long past expiry, so a replayed token still reads as expired rather than unknown. */
export const SQLITE_EXPIRED_ROW_GRACE_SECONDS = 3600;
/**
 * The WAL is checkpointed, and truncated back, at this size: SQLite's own default (1,000 pages).
 * Each checkpoint copies the WAL's pages into the database and syncs both files, on the request
 * path; at 512 KiB a refresh grant paid one every few grants (bench/README.md).
 */
export const SQLITE_WAL_LIMIT_BYTES = 4 * 1024 * 1024;
/** /readyz reports the SQLite store not ready when its volume has less free space than this. IDP_DATA_DIR_MIN_FREE_MB */
export const DATA_DIR_MIN_FREE_MB = 64;

/** Seconds a client is told to wait (Retry-After) when the store is unavailable. */
export const STORE_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
/** While the store is unreachable at start-up, the IdP tries again this often (it answers 503 meanwhile). */
export const STORE_CONNECT_RETRY_SECONDS = 2;
