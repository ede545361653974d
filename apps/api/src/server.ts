// Starts the resource API: validated configuration, listen, and a graceful stop on SIGTERM/SIGINT
// (no new requests, in-flight ones finish, then the database closes).
import { readConfigOrExit } from '@suite/config';
import { buildApi } from './app.ts';
import { readApiConfig } from './config.ts';
import { SHUTDOWN_GRACE_MS } from './defaults.ts';

const config = readConfigOrExit('api', () => readApiConfig());

const { app } = buildApi(config);
try {
  await app.listen({ port: config.API_PORT, host: config.API_HOST });
} catch (err) {
  app.log.error({ err }, 'cannot listen');
  process.exit(1);
}

let closing = false;
function shutdown(signal: string): void {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
  app.close().then(() => process.exit(0), () => process.exit(1));
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
