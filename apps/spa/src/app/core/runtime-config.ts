import { InjectionToken } from '@angular/core';

/**
 * Token mode: the browser holds the tokens (angular-auth-oidc-client). Served by the SPA server as
 * /config.json (see server/config.ts), read before bootstrap.
 */
export interface TokenModeConfig {
  readonly mode: 'token';
  readonly authority: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scope: string;
  readonly apiUrl: string;
  readonly redirectUrl: string;
  readonly renewBeforeExpirySeconds: number;
}

/** BFF mode: the Backend-for-Frontend holds the tokens; the app talks only to its own origin. */
export interface BffModeConfig {
  readonly mode: 'bff';
  /** The BFF's public origin (no trailing slash). */
  readonly apiUrl: string;
}

export type RuntimeConfig = TokenModeConfig | BffModeConfig;

/** The token-mode configuration, provided only in token mode. */
export const TOKEN_MODE_CONFIG = new InjectionToken<TokenModeConfig>('TOKEN_MODE_CONFIG');

const STRING_FIELDS = ['authority', 'clientId', 'audience', 'scope', 'apiUrl', 'redirectUrl'] as const;
const URL_FIELDS = ['authority', 'apiUrl', 'redirectUrl'] as const;

/**
 * Checks the shape of /config.json so that a broken deployment fails loudly at start-up. An
 * absent `mode` is token mode, so that servers older than BFF mode keep working.
 */
export function parseRuntimeConfig(value: unknown): RuntimeConfig {
  if (typeof value !== 'object' || value === null) throw new Error('config.json is not an object');
  const record = value as Record<string, unknown>;
  const mode = record['mode'] ?? 'token';
  if (mode === 'bff') return { mode, apiUrl: httpUrl(record, 'apiUrl') };
  if (mode !== 'token') throw new Error('config.json: "mode" must be "token" or "bff"');
  for (const field of STRING_FIELDS) {
    if (typeof record[field] !== 'string' || record[field] === '') throw new Error(`config.json: "${field}" must be a non-empty string`);
  }
  for (const field of URL_FIELDS) httpUrl(record, field);
  const renew = record['renewBeforeExpirySeconds'];
  if (typeof renew !== 'number' || !Number.isInteger(renew) || renew < 1) {
    throw new Error('config.json: "renewBeforeExpirySeconds" must be a positive integer');
  }
  return {
    mode,
    authority: record['authority'] as string,
    clientId: record['clientId'] as string,
    audience: record['audience'] as string,
    scope: record['scope'] as string,
    apiUrl: record['apiUrl'] as string,
    redirectUrl: record['redirectUrl'] as string,
    renewBeforeExpirySeconds: renew,
  };
}

function httpUrl(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  const protocol = typeof value === 'string' && URL.canParse(value) ? new URL(value).protocol : '';
  if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`config.json: "${field}" must be an http(s) URL`);
  return value as string;
}

/** Name of the meta element into which the SPA server writes the configuration. */
export const CONFIG_META_NAME = 'spa-config';

/**
 * The configuration the server wrote into index.html, or null when it did not (a development
 * server leaves the placeholder). Checked like config.json.
 */
export function readInlineRuntimeConfig(document: Document): RuntimeConfig | null {
  const content = document.querySelector(`meta[name="${CONFIG_META_NAME}"]`)?.getAttribute('content');
  if (!content?.startsWith('{')) return null;
  return parseRuntimeConfig(JSON.parse(content));
}

/** The configuration from index.html, or else from /config.json. */
export async function loadRuntimeConfig(fetchConfig: typeof fetch = fetch, document: Document = globalThis.document): Promise<RuntimeConfig> {
  const inline = readInlineRuntimeConfig(document);
  if (inline) return inline;
  const response = await fetchConfig('/config.json', { cache: 'no-store', credentials: 'same-origin' });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  return parseRuntimeConfig(await response.json());
}
