// The SPA's static server in token mode: the shared SPA hosting (build, CSP, caching, runtime
// configuration) with this server's configuration, which lets the page connect to the IdP and the API.
import { createSpaHandler as hostSpa, type RequestHandler } from '@suite/spa-hosting';
import type { SpaConfig } from './config.ts';

export { CONFIG_PLACEHOLDER, NONCE_PLACEHOLDER, type RequestHandler } from '@suite/spa-hosting';

export function createSpaHandler(config: SpaConfig, distDir: string): RequestHandler {
  return hostSpa({ distDir, runtimeConfig: config.browser, connectOrigins: config.connectOrigins });
}
