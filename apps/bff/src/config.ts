// The BFF's environment, validated at start-up against one schema (see @suite/config).
import { join } from 'node:path';
import { bool, int, loadConfig, localUrlOfPort, oneOf, port, redisUrl, str, url, type ConfigOf } from '@suite/config';
import { HSTS_MAX_AGE_LIMIT_SECONDS, strictTransportSecurity } from '@suite/process-shell';
import * as d from './defaults.ts';

const appDir = join(import.meta.dirname, '..');
const spaDistDir = join(appDir, '..', 'spa', 'dist', 'spa', 'browser');

export const bffSchema = {
  BFF_PROFILE: oneOf(['development', 'production'] as const, { doc: 'development allows the development client secret and a generated token key; production refuses both and needs an https:// public URL', default: 'development' }),
  BFF_PORT: port({ doc: 'Port the BFF listens on', default: String(d.PORT) }),
  BFF_HOST: str({ doc: 'Interface the BFF listens on', default: '127.0.0.1' }),
  BFF_PUBLIC_URL: url({ doc: 'Origin the browser uses for the BFF; the redirect URI is this + /bff/callback, the post-logout URI this + / (defaults to http://localhost:BFF_PORT)', default: '', origin: true }),
  BFF_HSTS_MAX_AGE: int({ doc: 'Strict-Transport-Security max-age in seconds, sent on every answer when BFF_PUBLIC_URL is https:// (never on http://); 0 tells browsers to forget it', default: String(d.HSTS_MAX_AGE_SECONDS), min: 0, max: HSTS_MAX_AGE_LIMIT_SECONDS }),
  BFF_AUTHORITY: url({ doc: 'OpenID Provider issuer, exactly as in its discovery document (Auth0: https://TENANT.auth0.com/); every endpoint comes from discovery', default: d.AUTHORITY }),
  BFF_CLIENT_ID: str({ doc: 'Client id of the BFF at the IdP (a confidential client)', default: d.CLIENT_ID }),
  BFF_CLIENT_SECRET: str({ doc: 'Secret of that client (client_secret_basic); the default is the embedded IdP\'s development secret', default: d.DEV_CLIENT_SECRET, secret: true }),
  BFF_AUDIENCE: str({ doc: 'API identifier requested as Auth0 `audience`', default: d.AUDIENCE }),
  BFF_SCOPE: str({ doc: 'Scopes requested at login', default: d.SCOPE }),
  BFF_API_URL: url({ doc: 'The API /api/* is proxied to (only its /api/ paths)', default: d.API_URL }),
  BFF_STORE: oneOf(['sqlite', 'redis'] as const, { doc: 'Where sessions live: embedded SQLite (processes on one host may share its data dir), or Redis shared by instances on several hosts', default: 'sqlite' }),
  BFF_DATA_DIR: str({ doc: 'Directory of the SQLite session database and the generated development token key', default: join(appDir, 'data') }),
  BFF_SQLITE_SYNCHRONOUS: oneOf(['NORMAL', 'FULL'] as const, { doc: `SQLite durability of the session store: NORMAL survives a killed process (SIGKILL), FULL also a power cut (each commit fsynced). Unset: ${d.SQLITE_SYNCHRONOUS.production} in production, ${d.SQLITE_SYNCHRONOUS.development} in development`, default: '', appliesWhen: ['BFF_STORE', 'sqlite'] }),
  BFF_REDIS_URL: redisUrl({ doc: 'Redis URL when BFF_STORE=redis (redis://host:port/db)', default: 'redis://127.0.0.1:6379/0', appliesWhen: ['BFF_STORE', 'redis'] }),
  BFF_REDIS_DURABILITY_CHECK: bool({ doc: 'Check that Redis keeps every write (appendonly yes, appendfsync always, no-appendfsync-on-rewrite no, maxmemory-policy noeviction): production refuses to start otherwise and /readyz reports not ready when a setting changes later; development warns at start-up. Turn off only where CONFIG is disabled and the settings are verified otherwise', default: 'true', appliesWhen: ['BFF_STORE', 'redis'] }),
  BFF_TOKEN_KEYS: str({ doc: 'Comma-separated base64 256-bit keys encrypting tokens at rest, newest first (older ones only decrypt); the same on every instance. Generated and kept in the data dir when unset (development only)', default: '', secret: true }),
  BFF_SESSION_COOKIE_SAMESITE: oneOf(['strict', 'lax'] as const, { doc: 'SameSite of the session cookie', default: d.SESSION_COOKIE_SAMESITE }),
  BFF_SESSION_IDLE_TTL: int({ doc: 'Seconds a session may go unused before it ends (sliding)', default: String(d.SESSION_IDLE_TTL_SECONDS), min: 60, max: 30 * 24 * 3600 }),
  BFF_SESSION_ABSOLUTE_TTL: int({ doc: 'Seconds after login at which a session ends whatever its use', default: String(d.SESSION_ABSOLUTE_TTL_SECONDS), min: 60, max: 365 * 24 * 3600 }),
  BFF_SESSION_CACHE_SIZE: int({ doc: 'Decrypted sessions kept in memory per instance (0: read the store on every request); a session ended on any instance stops working at once either way', default: String(d.SESSION_CACHE_SIZE), min: 0, max: 1_000_000 }),
  BFF_LOGOUT_HINT: oneOf(['sid', 'id_token'] as const, { doc: 'How a logout names the session to the IdP\'s end-session endpoint: sid sends client_id and logout_hint (Auth0, the embedded IdP; no token in the browser), id_token sends the ID token as id_token_hint (an IdP that ignores logout_hint would ask the user)', default: d.LOGOUT_HINT }),
  BFF_LOGIN_TTL: int({ doc: 'Seconds a login may take at the IdP: the Max-Age of its sealed cookie, and the BFF refuses the cookie past it by its own clock', default: String(d.LOGIN_TTL_SECONDS), min: 30, max: 3600 }),
  BFF_RENEW_BEFORE_EXPIRY: int({ doc: 'Seconds before access-token expiry at which the BFF renews it (at most three quarters of the token\'s lifetime, so a short-lived token is not renewed on every request)', default: String(d.RENEW_BEFORE_EXPIRY_SECONDS), min: 1, max: 3600 }),
  BFF_BACKCHANNEL_MAX_AGE: int({ doc: 'Oldest back-channel logout token accepted, in seconds since its iat', default: String(d.BACKCHANNEL_MAX_AGE_SECONDS), min: 10, max: 3600 }),
  BFF_CLOCK_TOLERANCE: int({ doc: 'Clock skew tolerated on the iat and exp of back-channel logout tokens, in seconds', default: String(d.CLOCK_TOLERANCE_SECONDS), min: 0, max: 300 }),
  BFF_SPA_DIST: str({ doc: 'The Angular production build served (built on start when missing or stale)', default: spaDistDir }),
  BFF_LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const, { doc: 'Lowest level of log lines written', default: 'info' }),
};

export type BffEnv = ConfigOf<typeof bffSchema>;

export interface BffConfig extends BffEnv {
  /** The browser-facing origin, no trailing slash. */
  publicUrl: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** RETIRED_SETTINGS found in the environment: accepted, warned about at start-up. */
  retiredSettings: string[];
  /** Strict-Transport-Security of every answer when the public URL is https://, else undefined. */
  strictTransportSecurity: string | undefined;
}

/** Variables of the BFF's own prefix; any other BFF_ variable is refused as a mistyped name. */
export const BFF_PREFIXES = ['BFF_'] as const;
/**
 * Settings of earlier versions that nothing reads any more, accepted for one release with a
 * warning at start-up (an upgrade must not stop on them), refused as unknown afterwards.
 * BFF_MAX_PENDING_LOGINS: pending logins live in the browser (docs/decisions/0071).
 */
export const RETIRED_SETTINGS = ['BFF_MAX_PENDING_LOGINS'] as const;

export function readBffConfig(env: Record<string, string | undefined> = process.env): BffConfig {
  const raw = loadConfig(bffSchema, env, { prefixes: BFF_PREFIXES, alsoKnown: RETIRED_SETTINGS });
  const publicUrl = new URL(raw.BFF_PUBLIC_URL || localUrlOfPort(raw.BFF_PORT, 'BFF_PORT', 'BFF_PUBLIC_URL')).origin;
  return {
    ...raw, publicUrl, redirectUri: publicUrl + d.CALLBACK_PATH, postLogoutRedirectUri: publicUrl + '/',
    BFF_SQLITE_SYNCHRONOUS: raw.BFF_SQLITE_SYNCHRONOUS || d.SQLITE_SYNCHRONOUS[raw.BFF_PROFILE],
    strictTransportSecurity: strictTransportSecurity(publicUrl, raw.BFF_HSTS_MAX_AGE),
    retiredSettings: RETIRED_SETTINGS.filter((name) => env[name] !== undefined),
  };
}
