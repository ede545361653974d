// Starts the SPA server: validated configuration, a fresh build, then listen.
import { createServer } from 'node:http';
import { ConfigError } from '@suite/config';
import { createSpaHandler } from './app.ts';
import { distDir, ensureBuilt } from './build.ts';
import { readSpaConfig, type SpaConfig } from './config.ts';

function log(event: string, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', app: 'spa', event, ...extra }));
}

let config: SpaConfig;
try {
  config = readSpaConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`[spa] ${err.message}`);
    process.exit(2);
  }
  throw err;
}

try {
  ensureBuilt((line) => log('build', { message: line }));
} catch (err) {
  console.error(`[spa] cannot start: ${(err as Error).message}`);
  process.exit(2);
}

const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, createSpaHandler(config, distDir));
server.listen(config.port, config.host, () => {
  log('listening', { url: config.browser.redirectUrl, authority: config.browser.authority, api: config.browser.apiUrl });
});

function shutdown(): void {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
