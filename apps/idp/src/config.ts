// The IdP's environment, validated at start-up against one schema (see @suite/config).
import { join } from 'node:path';
import { bool, ConfigError, int, list, loadConfig, localUrlOfPort, oneOf, port, redisUrl, secretItem, str, url, type ConfigOf } from '@suite/config';
import { secretVariableNames } from './clients.ts';
import { HSTS_MAX_AGE_LIMIT_SECONDS } from '@suite/process-shell';
import * as d from './defaults.ts';

const appDir = join(import.meta.dirname, '..');

/**
 * oidc-provider serves discovery and every endpoint at the root of the host, and builds their URLs
 * from the issuer's origin: an issuer with a path would be discovered at <path>/.well-known/… (not
 * served) and name endpoints outside its path. Anything but the origin as a URL parser writes it
 * (lower-case host, no default port, no credentials), with or without the trailing slash, would
 * make discovery's issuer and endpoints disagree.
 */
function issuerProblem(issuer: string): string | undefined {
  const { origin } = new URL(issuer);
  if (issuer === origin || issuer === `${origin}/`) return undefined;
  return `the issuer must be an origin (${origin} or ${origin}/): no path, query, fragment or credentials, host in lower case, no default port`;
}

export const idpSchema = {
  IDP_PROFILE: oneOf(['development', 'production'] as const, { doc: 'development allows demo users and dev secrets; production refuses both', default: 'development' }),
  IDP_PORT: port({ doc: 'Port the IdP listens on', default: '4400' }),
  IDP_HOST: str({ doc: 'Interface the IdP listens on', default: '127.0.0.1' }),
  IDP_ISSUER: url({ doc: "Issuer identifier: an origin, with or without Auth0's trailing slash, no path (defaults to http://localhost:IDP_PORT)", default: '', origin: true, check: issuerProblem }),
  IDP_HSTS_MAX_AGE: int({ doc: 'Strict-Transport-Security max-age in seconds, sent on every answer when the issuer is https:// (never on http://); 0 tells browsers to forget it', default: String(d.HSTS_MAX_AGE_SECONDS), min: 0, max: HSTS_MAX_AGE_LIMIT_SECONDS }),
  IDP_DATA_DIR: str({ doc: 'Directory of the SQLite database (sessions, grants, tokens, keys)', default: join(appDir, 'data') }),
  IDP_STORE: oneOf(['sqlite', 'redis'] as const, { doc: 'Where state lives: embedded SQLite, or Redis shared by several instances', default: 'sqlite' }),
  IDP_REDIS_URL: redisUrl({ doc: 'Redis URL when IDP_STORE=redis (redis://host:port/db)', default: 'redis://127.0.0.1:6379/0', appliesWhen: ['IDP_STORE', 'redis'] }),
  IDP_CLIENTS_FILE: str({ doc: 'JSON file of registered clients', default: join(appDir, 'config', 'clients.json') }),
  IDP_USERS_FILE: str({ doc: 'JSON file of users with Argon2id password hashes', default: join(appDir, 'config', 'demo-users.json') }),
  IDP_COOKIE_KEYS: list(secretItem(d.COOKIE_KEY_MIN_LENGTH), { what: `secrets of at least ${d.COOKIE_KEY_MIN_LENGTH} characters`, doc: 'Comma-separated secrets signing the IdP cookies, newest first; same on every instance and across restarts. Generated and kept in the data dir when unset (development only); production refuses a key of fewer than 8 different characters', default: '', secret: true }),
  IDP_TRUST_PROXY: bool({ doc: 'Trust the last X-Forwarded-For entry as the client address (login throttling): set behind a proxy that appends it. URLs and Secure cookies follow IDP_ISSUER either way', default: 'false' }),
  IDP_SIGNING_ALG: oneOf(d.SIGNING_ALGS, { doc: 'Algorithm of newly generated signing keys', default: d.SIGNING_ALG }),
  IDP_ACCESS_TOKEN_FORMAT: oneOf(['jwt', 'opaque'] as const, { doc: 'Access-token format for the API', default: d.ACCESS_TOKEN_FORMAT }),
  IDP_ACCESS_TOKEN_PROFILE: oneOf(d.ACCESS_TOKEN_PROFILES, { doc: "Shape of JWT access tokens: rfc9068 (typ at+jwt, client_id, jti) or auth0 (typ JWT, azp); a resource's token_profile in the clients file overrides it", default: d.ACCESS_TOKEN_PROFILE }),
  IDP_ACCESS_TOKEN_TTL: int({ doc: 'Access-token lifetime in seconds', default: String(d.ACCESS_TOKEN_TTL_SECONDS), min: 5, max: 24 * 3600 }),
  IDP_ID_TOKEN_TTL: int({ doc: 'ID-token lifetime in seconds', default: String(d.ID_TOKEN_TTL_SECONDS), min: 5, max: 24 * 3600 }),
  IDP_REFRESH_TOKEN_ABSOLUTE_TTL: int({ doc: 'Absolute refresh-token lifetime in seconds (rotation never extends it)', default: String(d.REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS), min: 1, max: 365 * 24 * 3600 }),
  IDP_REFRESH_TOKEN_IDLE_TTL: int({ doc: 'Idle refresh-token lifetime in seconds', default: String(d.REFRESH_TOKEN_IDLE_TTL_SECONDS), min: 1, max: 365 * 24 * 3600 }),
  IDP_SESSION_TTL: int({ doc: 'IdP login-session lifetime in seconds', default: String(d.SESSION_TTL_SECONDS), min: 60, max: 365 * 24 * 3600 }),
  IDP_LOGIN_WINDOW: int({ doc: 'Seconds of the window in which failed logins are counted', default: String(d.LOGIN_THROTTLE.windowSeconds), min: 60, max: 24 * 3600 }),
  IDP_LOGIN_MAX_FAILURES_PER_USER_AND_IP: int({ doc: 'Failed logins for one username from one client IP within the window before 429 (other addresses are not blocked)', default: String(d.LOGIN_THROTTLE.maxFailuresPerUserAndIp), min: 1, max: 10_000 }),
  IDP_LOGIN_MAX_FAILURES_PER_IP: int({ doc: 'Failed logins from one client IP, across usernames, within the window before 429', default: String(d.LOGIN_THROTTLE.maxFailuresPerIp), min: 1, max: 100_000 }),
  IDP_LOGIN_SLOW_AFTER: int({ doc: 'Failed logins for a username, from any address, after which each further attempt is delayed (never refused)', default: String(d.LOGIN_THROTTLE.slowAfter), min: 0, max: 10_000 }),
  IDP_LOGIN_MAX_DELAY_MS: int({ doc: 'Longest delay of a slowed login attempt, in milliseconds', default: String(d.LOGIN_THROTTLE.maxDelayMs), min: 0, max: 60_000 }),
  IDP_KEY_RELOAD_INTERVAL: int({ doc: 'Seconds between re-reads of the signing keys (picks up rotations); the same on every instance', default: String(d.KEY_RELOAD_INTERVAL_SECONDS), min: 1, max: 3600 }),
  IDP_KEY_ACTIVATION_DELAY: int({ doc: 'Seconds between publishing a rotated-in signing key and signing with it; at least IDP_KEY_RELOAD_INTERVAL + the APIs\' JWKS cooldown', default: String(d.KEY_ACTIVATION_DELAY_SECONDS), min: 1, max: 24 * 3600 }),
  IDP_REFRESH_TOKEN_REUSE_INTERVAL: int({ doc: 'Seconds during which a retry with the previous refresh token gets a new one instead of revoking the login (0: off)', default: String(d.REFRESH_TOKEN_REUSE_INTERVAL_SECONDS), min: 0, max: 300 }),
  IDP_REDIS_DURABILITY_CHECK: bool({ doc: 'Check that Redis keeps every write (appendonly yes, appendfsync always, no-appendfsync-on-rewrite no, maxmemory-policy noeviction): production refuses to start otherwise and /readyz reports not ready when a setting changes later; development warns at start-up. Turn off only where CONFIG is disabled and the settings are verified otherwise', default: 'true', appliesWhen: ['IDP_STORE', 'redis'] }),
  IDP_DATA_DIR_MIN_FREE_MB: int({ doc: 'Free space (MiB) the SQLite data directory needs for /readyz to report ready', default: String(d.DATA_DIR_MIN_FREE_MB), min: 0, max: 1024 * 1024, appliesWhen: ['IDP_STORE', 'sqlite'] }),
  IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS: int({ doc: 'Milliseconds a back-channel logout post to a client may take before it counts as failed', default: String(d.BACKCHANNEL_LOGOUT_TIMEOUT_MS), min: 100, max: 120_000 }),
  IDP_SQLITE_SYNCHRONOUS: oneOf(['NORMAL', 'FULL'] as const, { doc: `SQLite durability: NORMAL survives a killed process (SIGKILL), FULL also a power cut (each commit fsynced). Unset: ${d.SQLITE_SYNCHRONOUS.production} in production, ${d.SQLITE_SYNCHRONOUS.development} in development`, default: '', appliesWhen: ['IDP_STORE', 'sqlite'] }),
  API_CLIENT_SECRET: str({ doc: 'Secret of the confidential `api` client (introspection); required in production, where it must have at least 32 characters of at least 8 different ones, be no development secret of the clients file and no other client\'s (the same for every client secret)', default: '', secret: true }),
  BFF_CLIENT_SECRET: str({ doc: 'Secret of the confidential `bff` client (the Backend-for-Frontend); required in production, as strong as API_CLIENT_SECRET', default: '', secret: true }),
  SERVICE_CLIENT_SECRET: str({ doc: 'Secret of the machine-to-machine `service` client (client_credentials, client_secret_post); required in production, as strong as API_CLIENT_SECRET', default: '', secret: true }),
  IDP_LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const, { doc: 'Lowest level of log lines written', default: 'info' }),
};

export type IdpConfig = ConfigOf<typeof idpSchema> & { issuer: string };

/** Variables of the IdP's own prefix; any other IDP_ variable is refused as a mistyped name. */
export const IDP_PREFIXES = ['IDP_'] as const;

export function readIdpConfig(env: Record<string, string | undefined> = process.env): IdpConfig {
  // The clients file may name further variables holding client secrets (client_secret_env).
  const clientsFile = env['IDP_CLIENTS_FILE'] || idpSchema.IDP_CLIENTS_FILE.default!;
  const raw = loadConfig(idpSchema, env, { prefixes: IDP_PREFIXES, alsoKnown: secretVariableNames(clientsFile) });
  // A rotated-in key must not sign before every instance has reloaded and published it.
  if (raw.IDP_KEY_ACTIVATION_DELAY < raw.IDP_KEY_RELOAD_INTERVAL) {
    throw new ConfigError([`IDP_KEY_ACTIVATION_DELAY=${raw.IDP_KEY_ACTIVATION_DELAY} is shorter than IDP_KEY_RELOAD_INTERVAL=${raw.IDP_KEY_RELOAD_INTERVAL}: a rotated-in key would sign before the other instances publish it, and APIs would refuse its tokens; make the delay at least the reload interval plus the APIs' JWKS cooldown`]);
  }
  const issuer = raw.IDP_ISSUER || localUrlOfPort(raw.IDP_PORT, 'IDP_PORT', 'IDP_ISSUER');
  return { ...raw, issuer, IDP_SQLITE_SYNCHRONOUS: raw.IDP_SQLITE_SYNCHRONOUS || d.SQLITE_SYNCHRONOUS[raw.IDP_PROFILE] };
}
