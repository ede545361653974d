// Starts the identity provider: validated configuration, then the shared process shell (timeouts,
// listen, graceful stop). Exits with a clear message on any bad configuration. A Redis that cannot
// be reached yet does not stop the start: the IdP listens, answers 503 (/readyz says why) and
// comes up as soon as Redis answers.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readConfigOrExit, refuseArgumentsOrExit } from '@suite/config';
import { EXIT_CODES, runServer } from '@suite/process-shell';
import { createIdp, readiness, type Idp } from './app.ts';
import { readIdpConfig } from './config.ts';
import { HTTP_TIMEOUTS, SHUTDOWN_GRACE_MS, STORE_CONNECT_RETRY_SECONDS, STORE_UNAVAILABLE_RETRY_AFTER_SECONDS } from './defaults.ts';
import { createLogger } from './log.ts';
import { StoreUnavailableError } from './storage/store.ts';

refuseArgumentsOrExit('idp');
const config = readConfigOrExit('idp', () => readIdpConfig());
const logger = createLogger(config.IDP_LOG_LEVEL);

let idp: Idp | undefined;
let waitingFor: string | undefined;
let stopping = false;

/** One attempt; a Redis not reachable yet is worth waiting for, anything else stops the start. */
async function start(): Promise<Idp | undefined> {
  try {
    return await createIdp(config, { logger });
  } catch (err) {
    if (err instanceof StoreUnavailableError && config.IDP_STORE === 'redis') {
      if (waitingFor !== err.reason) logger.log('error', 'store_unavailable_at_start', { reason: err.reason, retryInSeconds: STORE_CONNECT_RETRY_SECONDS });
      waitingFor = err.reason;
      return undefined;
    }
    console.error(`[idp] cannot start: ${err instanceof StoreUnavailableError ? err.reason : (err as Error).message}`);
    process.exit(EXIT_CODES.badStart);
  }
}

function answerWhileWaiting(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"status":"ok"}');
  } else if (path === '/readyz') {
    void readiness(res, Promise.resolve({ ok: false, reason: `waiting for the store: ${waitingFor}` }));
  } else {
    res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': String(STORE_UNAVAILABLE_RETRY_AFTER_SECONDS), 'Cache-Control': 'no-store' });
    res.end('{"error":"temporarily_unavailable","error_description":"the identity provider is waiting for its store; retry later"}');
  }
}

let reload: NodeJS.Timeout | undefined;
function reloadKeysPeriodically(started: Idp): void {
  logger.log('info', 'ready', { store: config.IDP_STORE });
  reload = setInterval(() => {
    started.reloadKeys().catch((err: Error) => started.logger.log('error', 'signing_keys_reload_failed', { message: err.message }));
  }, config.IDP_KEY_RELOAD_INTERVAL * 1000);
  reload.unref();
}

idp = await start();
if (idp) reloadKeysPeriodically(idp);

await runServer({
  app: 'idp',
  server: createServer((req, res) => (idp ? idp.handle(req, res) : answerWhileWaiting(req, res))),
  port: config.IDP_PORT,
  host: config.IDP_HOST,
  timeouts: HTTP_TIMEOUTS,
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
  listeningFields: { issuer: config.issuer },
  release: () => {
    stopping = true;
    clearInterval(reload);
    return idp?.close();
  },
});

while (!idp && !stopping) {
  await sleep(STORE_CONNECT_RETRY_SECONDS * 1000);
  if (stopping) break;
  idp = await start();
  if (idp) reloadKeysPeriodically(idp);
}
