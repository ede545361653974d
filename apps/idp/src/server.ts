// Starts the identity provider: validated configuration, then the shared process shell (timeouts,
// listen, graceful stop). Exits with a clear message on any bad configuration.
import { createServer } from 'node:http';
import { readConfigOrExit } from '@suite/config';
import { EXIT_CODES, runServer } from '@suite/process-shell';
import { createIdp, type Idp } from './app.ts';
import { readIdpConfig } from './config.ts';
import { HTTP_TIMEOUTS, SHUTDOWN_GRACE_MS } from './defaults.ts';

const config = readConfigOrExit('idp', () => readIdpConfig());

let idp: Idp;
try {
  idp = await createIdp(config);
} catch (err) {
  console.error(`[idp] cannot start: ${(err as Error).message}`);
  process.exit(EXIT_CODES.badStart);
}

const reload = setInterval(() => {
  idp.reloadKeys().catch((err: Error) => idp.logger.log('error', 'signing_keys_reload_failed', { message: err.message }));
}, config.IDP_KEY_RELOAD_INTERVAL * 1000);
reload.unref();

await runServer({
  app: 'idp',
  server: createServer((req, res) => idp.handle(req, res)),
  port: config.IDP_PORT,
  host: config.IDP_HOST,
  timeouts: HTTP_TIMEOUTS,
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
  listeningFields: { issuer: config.issuer },
  release: () => {
    clearInterval(reload);
    return idp.close();
  },
});
