// The API's environment, validated at start-up against one schema (see @suite/config).
import { join } from 'node:path';
import { ConfigError, int, list, loadConfig, oneOf, origin, port, str, url, type ConfigOf } from '@suite/config';
import { HSTS_MAX_AGE_LIMIT_SECONDS } from '@suite/process-shell';
import * as d from './defaults.ts';

const appDir = join(import.meta.dirname, '..');

function algorithm(raw: string): d.Algorithm {
  if (!(d.SUPPORTED_ALGORITHMS as readonly string[]).includes(raw)) throw new Error('unsupported');
  return raw as d.Algorithm;
}

/** A JOSE `typ` as compared: lower case, without the optional `application/` prefix (RFC 7515 §4.1.9). */
export function normalizeTyp(raw: string): string {
  const lower = raw.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function tokenType(raw: string): string {
  if (!/^[\w.+-]+(\/[\w.+-]+)?$/.test(raw)) throw new Error('not a media type');
  return normalizeTyp(raw);
}

function clientId(raw: string): string {
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new Error('not a client id');
  return raw;
}

export const apiSchema = {
  API_PROFILE: oneOf(['development', 'production'] as const, { doc: 'development trusts the SPA, BFF and Swagger UI clients by default; production trusts only the clients it is given', default: 'development' }),
  API_PORT: port({ doc: 'Port the API listens on', default: '5001' }),
  API_HOST: str({ doc: 'Interface the API listens on', default: '127.0.0.1' }),
  API_PUBLIC_URL: url({ doc: 'Origin browsers and clients use for the API (defaults to http://localhost:API_PORT); https:// sends Strict-Transport-Security', default: '', origin: true }),
  API_HSTS_MAX_AGE: int({ doc: 'Strict-Transport-Security max-age in seconds, sent on every answer when API_PUBLIC_URL is https:// (never on http://); 0 tells browsers to forget it', default: String(d.HSTS_MAX_AGE_SECONDS), min: 0, max: HSTS_MAX_AGE_LIMIT_SECONDS }),
  API_DATA_DIR: str({ doc: 'Directory of the notes SQLite database', default: join(appDir, 'data') }),
  API_SQLITE_SYNCHRONOUS: oneOf(['NORMAL', 'FULL'] as const, { doc: `SQLite durability of the notes database: NORMAL survives a killed process (SIGKILL), FULL also a power cut (each commit fsynced). Unset: ${d.SQLITE_SYNCHRONOUS.production} in production, ${d.SQLITE_SYNCHRONOUS.development} in development`, default: '' }),
  API_LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const, { doc: 'Lowest level of log lines written', default: 'info' }),
  API_CORS_ORIGINS: list(origin, { doc: 'Browser origins allowed to call the API (CORS)', what: 'origins', default: d.CORS_ORIGINS.join(',') }),
  API_CLIENT_ID: str({ doc: 'Client id the API introspects reference tokens as', default: d.INTROSPECTION_CLIENT_ID }),
  API_CLIENT_SECRET: str({ doc: 'Secret of that client (client_secret_basic); the default is the embedded IdP\'s development secret', default: d.INTROSPECTION_CLIENT_SECRET, secret: true }),
  API_SWAGGER_CLIENT_ID: str({ doc: 'Public client Swagger UI signs in with (authorization code + PKCE)', default: d.SWAGGER_CLIENT_ID }),
  API_REQUEST_TIMEOUT: int({ doc: 'Seconds within which a whole request (headers and body) must arrive; slower ones are dropped with 408', default: String(d.REQUEST_TIMEOUT_SECONDS), min: 1, max: 300 }),
  API_REFUSAL_LOG_LINES: int({ doc: `Refusals logged one by one per reason and ${d.REFUSAL_LOG_WINDOW_SECONDS} s; the rest are counted in one line per window`, default: String(d.REFUSAL_LOG_LINES_PER_REASON), min: 0, max: 100_000 }),
  AUTH_AUTHORITY: url({ doc: 'Issuer, exactly as in the tokens\' iss (Auth0: https://TENANT.auth0.com/ with the trailing slash); its discovery document is read at start-up', default: d.AUTHORITY }),
  AUTH_AUDIENCE: str({ doc: 'API identifier every token\'s aud must contain', default: d.AUDIENCE }),
  AUTH_ALLOWED_CLIENTS: list(clientId, { doc: `Client ids (azp or client_id) the reference policy accepts. Unset: ${d.DEVELOPMENT_ALLOWED_CLIENTS.join(', ')} and API_SWAGGER_CLIENT_ID in development; required in production`, what: 'client ids', default: '' }),
  AUTH_REQUIRED_SCOPE: str({ doc: 'Scope the reference policy p-user-api-auth0 requires', default: d.REQUIRED_SCOPE }),
  AUTH_ALLOWED_SERVICE_CLIENTS: list(clientId, { doc: `Machine-to-machine client ids (client_credentials tokens, no user) the service policy p-service-api-auth0 accepts. Unset: ${d.DEVELOPMENT_ALLOWED_SERVICE_CLIENTS.join(', ')} in development, none in production`, what: 'client ids', default: '' }),
  AUTH_SERVICE_SCOPE: str({ doc: 'Scope the service policy p-service-api-auth0 requires', default: d.SERVICE_SCOPE }),
  AUTH_ALGORITHMS: list(algorithm, { doc: 'Accepted JWS algorithms (asymmetric only)', what: `algorithms among ${d.SUPPORTED_ALGORITHMS.join(' ')}`, default: d.ALGORITHMS.join(',') }),
  AUTH_TOKEN_TYPES: list(tokenType, { doc: 'Accepted JOSE typ values (Auth0: at+jwt,JWT)', what: 'media types', default: d.TOKEN_TYPES.join(',') }),
  AUTH_TOKEN_FORMAT: oneOf(['jwt', 'reference', 'auto'] as const, { doc: 'Access tokens accepted: jwt (verified locally), reference (introspected) or auto (a JWS is verified, anything else introspected)', default: d.TOKEN_FORMAT }),
  AUTH_CLOCK_TOLERANCE: int({ doc: 'Clock skew allowed on exp, nbf and iat, in seconds', default: String(d.CLOCK_TOLERANCE_SECONDS), min: 0, max: 300 }),
  AUTH_MAX_TOKEN_LENGTH: int({ doc: 'Longest bearer token read, in characters', default: String(d.MAX_TOKEN_LENGTH), min: 256, max: 16 * 1024 }),
  AUTH_TOKEN_CACHE_SIZE: int({ doc: 'Verified JWTs kept in memory (0 disables the cache)', default: String(d.TOKEN_CACHE_SIZE), min: 0, max: 1_000_000 }),
  AUTH_JWKS_MAX_AGE: int({ doc: 'Seconds a fetched JWKS is fresh before a background refresh', default: String(d.JWKS_MAX_AGE_SECONDS), min: 10, max: 24 * 3600 }),
  AUTH_JWKS_COOLDOWN: int({ doc: 'Minimum seconds between JWKS refetches caused by unknown kids', default: String(d.JWKS_COOLDOWN_SECONDS), min: 0, max: 3600 }),
  AUTH_JWKS_CACHE_MAX_AGE: int({ doc: 'Oldest copy of the issuer\'s keys (kept in API_DATA_DIR) the API starts on when the IdP is unreachable, in seconds (0: no copy kept)', default: String(d.JWKS_CACHE_MAX_AGE_SECONDS), min: 0, max: 30 * 24 * 3600 }),
  AUTH_INTROSPECTION_CACHE_TTL: int({ doc: 'Longest reuse of an introspection result, in seconds (0 disables)', default: String(d.INTROSPECTION_CACHE_TTL_SECONDS), min: 0, max: 3600 }),
};

export type ApiConfig = ConfigOf<typeof apiSchema>;

/** Variables of the API's own prefixes; any other API_ or AUTH_ variable is refused as a mistyped name. */
export const API_PREFIXES = ['API_', 'AUTH_'] as const;

export function readApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const raw = loadConfig(apiSchema, env, { prefixes: API_PREFIXES });
  return {
    ...raw, AUTH_ALLOWED_CLIENTS: allowedClients(raw), AUTH_ALLOWED_SERVICE_CLIENTS: allowedServiceClients(raw),
    API_SQLITE_SYNCHRONOUS: raw.API_SQLITE_SYNCHRONOUS || d.SQLITE_SYNCHRONOUS[raw.API_PROFILE],
  };
}

/** The machine-to-machine clients a service token may come from: as configured, else the development default; none in production. */
function allowedServiceClients(raw: ApiConfig): string[] {
  const given = raw.AUTH_ALLOWED_SERVICE_CLIENTS as string[] | '';
  if (given !== '') return given;
  return raw.API_PROFILE === 'production' ? [] : [...d.DEVELOPMENT_ALLOWED_SERVICE_CLIENTS];
}

/** The clients a token may come from: as configured, else the development default; production must say. */
function allowedClients(raw: ApiConfig): string[] {
  const given = raw.AUTH_ALLOWED_CLIENTS as string[] | '';
  if (given !== '') return given;
  if (raw.API_PROFILE === 'production') {
    throw new ConfigError(['AUTH_ALLOWED_CLIENTS is required in the production profile: name every client id whose tokens the API accepts']);
  }
  return [...new Set([...d.DEVELOPMENT_ALLOWED_CLIENTS, raw.API_SWAGGER_CLIENT_ID])];
}
