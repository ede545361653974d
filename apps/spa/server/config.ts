// The SPA server's environment, validated at start-up. Everything the browser app needs at run
// time is served from here as /config.json, so pointing the SPA at another IdP needs no rebuild.
import { int, loadConfig, localUrlOfPort, port, str, url, type ConfigOf } from '@suite/config';
import { HSTS_MAX_AGE_LIMIT_SECONDS, strictTransportSecurity } from '@suite/process-shell';
import * as d from './defaults.ts';

export const spaSchema = {
  SPA_PORT: port({ doc: 'Port the SPA server listens on', default: '4200' }),
  SPA_HOST: str({ doc: 'Interface the SPA server listens on', default: '127.0.0.1' }),
  SPA_PUBLIC_URL: url({ doc: 'Origin the browser uses for the SPA, also the redirect and post-logout URI (defaults to http://localhost:SPA_PORT)', default: '', origin: true }),
  SPA_HSTS_MAX_AGE: int({ doc: 'Strict-Transport-Security max-age in seconds, sent on every answer when SPA_PUBLIC_URL is https:// (never on http://); 0 tells browsers to forget it', default: String(d.HSTS_MAX_AGE_SECONDS), min: 0, max: HSTS_MAX_AGE_LIMIT_SECONDS }),
  SPA_AUTHORITY: url({ doc: 'OpenID Provider (issuer) URL: the embedded IdP or an Auth0 tenant', default: d.AUTHORITY }),
  SPA_CLIENT_ID: str({ doc: 'Client id of the SPA at the IdP', default: d.CLIENT_ID }),
  SPA_AUDIENCE: str({ doc: 'API identifier requested as Auth0 `audience`', default: d.AUDIENCE }),
  SPA_SCOPE: str({ doc: 'Scopes requested at login and on every refresh', default: d.SCOPE }),
  SPA_API_URL: url({ doc: 'Base URL of the API; only URLs at or below it (its exact origin, and its path if it has one) receive the access token', default: d.API_URL }),
  SPA_RENEW_BEFORE_EXPIRY: int({ doc: 'Seconds before access-token expiry at which the SPA renews it', default: String(d.RENEW_BEFORE_EXPIRY_SECONDS), min: 1, max: 3600 }),
};

export type SpaEnv = ConfigOf<typeof spaSchema>;

/** What /config.json tells the browser app (mirrored by src/app/core/runtime-config.ts). */
export interface BrowserConfig {
  /** Token mode: the browser holds the tokens (the BFF serves `{ mode: 'bff', apiUrl }` instead). */
  mode: 'token';
  authority: string;
  clientId: string;
  audience: string;
  scope: string;
  apiUrl: string;
  redirectUrl: string;
  renewBeforeExpirySeconds: number;
}

export interface SpaConfig {
  host: string;
  port: number;
  browser: BrowserConfig;
  /** Origins the page may connect to besides itself. */
  connectOrigins: string[];
  /** Strict-Transport-Security of every answer when SPA_PUBLIC_URL is https://, else undefined. */
  strictTransportSecurity: string | undefined;
}

/** Variables of the SPA server's own prefix; any other SPA_ variable is refused as a mistyped name. */
export const SPA_PREFIXES = ['SPA_'] as const;

export function readSpaConfig(env: Record<string, string | undefined> = process.env): SpaConfig {
  const raw = loadConfig(spaSchema, env, { prefixes: SPA_PREFIXES });
  const redirectUrl = (raw.SPA_PUBLIC_URL || localUrlOfPort(raw.SPA_PORT, 'SPA_PORT', 'SPA_PUBLIC_URL')).replace(/\/$/, '');
  const authority = raw.SPA_AUTHORITY.replace(/\/$/, '');
  const apiUrl = raw.SPA_API_URL.replace(/\/$/, '');
  return {
    host: raw.SPA_HOST,
    port: raw.SPA_PORT,
    browser: {
      mode: 'token',
      authority,
      clientId: raw.SPA_CLIENT_ID,
      audience: raw.SPA_AUDIENCE,
      scope: raw.SPA_SCOPE,
      apiUrl,
      redirectUrl,
      renewBeforeExpirySeconds: raw.SPA_RENEW_BEFORE_EXPIRY,
    },
    connectOrigins: [new URL(authority).origin, new URL(apiUrl).origin],
    strictTransportSecurity: strictTransportSecurity(redirectUrl, raw.SPA_HSTS_MAX_AGE),
  };
}
