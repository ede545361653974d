// Starts the BFF: validated configuration, the SPA's production build (built when missing or
// stale), then the shared process shell (timeouts, listen, graceful stop on SIGTERM/SIGINT).
import { join } from 'node:path';
import { readConfigOrExit, refuseArgumentsOrExit } from '@suite/config';
import { EXIT_CODES, jsonLog, runServer } from '@suite/process-shell';
import { ensureBuilt } from '@suite/spa-hosting';
import { buildBff, type Bff } from './app.ts';
import { readBffConfig } from './config.ts';
import { HTTP_TIMEOUTS, SHUTDOWN_GRACE_MS } from './defaults.ts';

refuseArgumentsOrExit('bff');
const config = readConfigOrExit('bff', () => readBffConfig());
const log = jsonLog('bff');

let bff: Bff;
try {
  // The build folder is <spa>/dist/spa/browser; its Angular project is three levels up.
  ensureBuilt({ appDir: join(config.BFF_SPA_DIST, '..', '..', '..'), distDir: config.BFF_SPA_DIST }, (line) => log('info', 'build', { message: line }));
  bff = await buildBff(config);
} catch (err) {
  console.error(`[bff] cannot start: ${(err as Error).message}`);
  process.exit(EXIT_CODES.badStart);
}

const { app } = bff;
await runServer({
  app: 'bff',
  server: app.server,
  port: config.BFF_PORT,
  host: config.BFF_HOST,
  timeouts: HTTP_TIMEOUTS,
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
  listen: () => app.listen({ port: config.BFF_PORT, host: config.BFF_HOST }),
  // Fastify's close stops accepting, waits for in-flight requests, then closes the session store.
  close: () => app.close(),
  log: (level, event, fields) => app.log[level](fields ?? {}, event),
});
