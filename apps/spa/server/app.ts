// The SPA's static server in token mode: the shared SPA hosting (build, CSP, caching, runtime
// configuration) with this server's configuration, which lets the page connect to the IdP and the API.
import { createServer, type Server } from 'node:http';
import { answerClientError } from '@suite/process-shell';
import { createSpaHandler as hostSpa, type RequestHandler } from '@suite/spa-hosting';
import type { SpaConfig } from './config.ts';

export { CONFIG_PLACEHOLDER, NONCE_PLACEHOLDER, type RequestHandler } from '@suite/spa-hosting';

export function createSpaHandler(config: SpaConfig, distDir: string): RequestHandler {
  return hostSpa({ distDir, runtimeConfig: config.browser, connectOrigins: config.connectOrigins, strictTransportSecurity: config.strictTransportSecurity });
}

/**
 * The SPA server (not listening yet). What Node's HTTP parser refuses before the handler sees it
 * (a malformed request, headers over the limit, the request timeout) is answered like the API's
 * and the BFF's refusals (problem details, nosniff, not stored), not with Node's bare answer.
 */
export function createSpaServer(config: SpaConfig, distDir: string): Server {
  return createServer(createSpaHandler(config, distDir)).on('clientError', answerClientError);
}
