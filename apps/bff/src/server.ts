// Starts the BFF: validated configuration, the SPA's production build (built when missing or
// stale), listen, and a graceful stop on SIGTERM/SIGINT.
import { join } from 'node:path';
import { readConfigOrExit } from '@suite/config';
import { ensureBuilt } from '@suite/spa-hosting';
import { buildBff } from './app.ts';
import { readBffConfig } from './config.ts';
import { SHUTDOWN_GRACE_MS } from './defaults.ts';

const config = readConfigOrExit('bff', () => readBffConfig());

const log = (event: string, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', app: 'bff', event, ...extra }));

try {
  // The build folder is <spa>/dist/spa/browser; its app is three levels up.
  ensureBuilt({ appDir: join(config.BFF_SPA_DIST, '..', '..', '..'), distDir: config.BFF_SPA_DIST }, (line) => log('build', { message: line }));
} catch (err) {
  console.error(`[bff] cannot start: ${(err as Error).message}`);
  process.exit(2);
}

let bff;
try {
  bff = await buildBff(config);
} catch (err) {
  console.error(`[bff] cannot start: ${(err as Error).message}`);
  process.exit(2);
}
const { app } = bff;
try {
  await app.listen({ port: config.BFF_PORT, host: config.BFF_HOST });
  app.log.info({ url: config.publicUrl, authority: config.BFF_AUTHORITY, api: config.BFF_API_URL, store: config.BFF_STORE }, 'listening');
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
