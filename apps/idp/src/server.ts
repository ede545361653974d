// Starts the identity provider: validated configuration, then listen. Exits with a clear message
// on any bad configuration.
import { createServer } from 'node:http';
import { readConfigOrExit } from '@suite/config';
import { createIdp, type Idp } from './app.ts';
import { readIdpConfig } from './config.ts';
import { HTTP_TIMEOUTS } from './defaults.ts';

const config = readConfigOrExit('idp', () => readIdpConfig());

let idp: Idp;
try {
  idp = await createIdp(config);
} catch (err) {
  console.error(`[idp] cannot start: ${(err as Error).message}`);
  process.exit(2);
}

const server = createServer({ ...HTTP_TIMEOUTS }, (req, res) => idp.handle(req, res));
server.listen(config.IDP_PORT, config.IDP_HOST, () => {
  console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', app: 'idp', event: 'listening', issuer: config.issuer, port: config.IDP_PORT }));
});
const reload = setInterval(() => {
  idp.reloadKeys().catch((err: Error) => idp.logger.log('error', 'signing_keys_reload_failed', { message: err.message }));
}, config.IDP_KEY_RELOAD_INTERVAL * 1000);
reload.unref();

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  clearInterval(reload);
  server.close(() => {
    void idp.close().then(() => process.exit(0));
  });
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
