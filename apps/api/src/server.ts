// Starts the resource API: validated configuration, then the shared process shell (timeouts,
// listen, and a graceful stop on SIGTERM/SIGINT: in-flight requests finish, then the database closes).
import { readConfigOrExit, refuseArgumentsOrExit } from '@suite/config';
import { EXIT_CODES, runServer } from '@suite/process-shell';
import { buildApi, httpTimeouts, type Api } from './app.ts';
import { readApiConfig } from './config.ts';
import { SHUTDOWN_GRACE_MS } from './defaults.ts';

refuseArgumentsOrExit('api');
const config = readConfigOrExit('api', () => readApiConfig());

let api: Api;
try {
  api = buildApi(config);
} catch (err) {
  // A data directory that cannot be opened (a file, read-only, not a database): its cause, no stack.
  console.error(`[api] cannot start: ${(err as Error).message}`);
  process.exit(EXIT_CODES.badStart);
}
const { app, log } = api;
await runServer({
  app: 'api',
  server: app.server,
  port: config.API_PORT,
  host: config.API_HOST,
  timeouts: httpTimeouts(config),
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
  listen: () => app.listen({ port: config.API_PORT, host: config.API_HOST }),
  // Fastify's close stops accepting, waits for in-flight requests, then runs its onClose hooks.
  close: () => app.close(),
  log: (level, event, fields) => log[level](fields ?? {}, event),
});
