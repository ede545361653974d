import { InjectionToken } from '@angular/core';

/** Settings served by the SPA server as /config.json (see server/config.ts), read before bootstrap. */
export interface RuntimeConfig {
  readonly authority: string;
  readonly clientId: string;
  readonly audience: string;
  readonly scope: string;
  readonly apiUrl: string;
  readonly redirectUrl: string;
  readonly renewBeforeExpirySeconds: number;
}

export const RUNTIME_CONFIG = new InjectionToken<RuntimeConfig>('RUNTIME_CONFIG');

const STRING_FIELDS = ['authority', 'clientId', 'audience', 'scope', 'apiUrl', 'redirectUrl'] as const;
const URL_FIELDS = ['authority', 'apiUrl', 'redirectUrl'] as const;

/** Checks the shape of /config.json so that a broken deployment fails loudly at start-up. */
export function parseRuntimeConfig(value: unknown): RuntimeConfig {
  if (typeof value !== 'object' || value === null) throw new Error('config.json is not an object');
  const record = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (typeof record[field] !== 'string' || record[field] === '') throw new Error(`config.json: "${field}" must be a non-empty string`);
  }
  for (const field of URL_FIELDS) {
    const protocol = URL.canParse(record[field] as string) ? new URL(record[field] as string).protocol : '';
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`config.json: "${field}" must be an http(s) URL`);
  }
  const renew = record['renewBeforeExpirySeconds'];
  if (typeof renew !== 'number' || !Number.isInteger(renew) || renew < 1) {
    throw new Error('config.json: "renewBeforeExpirySeconds" must be a positive integer');
  }
  return {
    authority: record['authority'] as string,
    clientId: record['clientId'] as string,
    audience: record['audience'] as string,
    scope: record['scope'] as string,
    apiUrl: record['apiUrl'] as string,
    redirectUrl: record['redirectUrl'] as string,
    renewBeforeExpirySeconds: renew,
  };
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
