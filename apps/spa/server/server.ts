// Starts the SPA server: validated configuration, a fresh build, then the shared process shell
// (timeouts, listen, graceful stop).
import { ConfigError, refuseArgumentsOrExit } from '@suite/config';
import { EXIT_CODES, jsonLog, runServer } from '@suite/process-shell';
import { createSpaServer } from './app.ts';
import { distDir, ensureBuilt } from './build.ts';
import { readSpaConfig, type SpaConfig } from './config.ts';
import { HTTP_TIMEOUTS, SHUTDOWN_GRACE_MS } from './defaults.ts';

refuseArgumentsOrExit('spa');
const log = jsonLog('spa');

let config: SpaConfig;
try {
  config = readSpaConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`[spa] ${err.message}`);
    process.exit(EXIT_CODES.badStart);
  }
  throw err;
}

try {
  ensureBuilt((line) => log('info', 'build', { message: line }));
} catch (err) {
  console.error(`[spa] cannot start: ${(err as Error).message}`);
  process.exit(EXIT_CODES.badStart);
}

await runServer({
  app: 'spa',
  server: createSpaServer(config, distDir),
  port: config.port,
  host: config.host,
  timeouts: HTTP_TIMEOUTS,
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
  listeningFields: { url: config.browser.redirectUrl, authority: config.browser.authority, api: config.browser.apiUrl },
  log,
});
