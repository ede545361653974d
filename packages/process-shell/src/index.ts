// The process shell of every server of the suite (IdP, API, SPA server, BFF): HTTP timeouts,
// listen, and a graceful stop on SIGTERM/SIGINT, with the same exit codes everywhere. The values
// are each app's own, named in its defaults.ts.
import type { Server } from 'node:http';
import { refuseWhileDraining } from './draining.ts';

export { answerClientError } from './client-error.ts';
export { DRAINING_RETRY_AFTER_SECONDS } from './draining.ts';
export { HSTS_MAX_AGE_LIMIT_SECONDS, strictTransportSecurity } from './strict-transport-security.ts';
export { loggedError } from './logged-error.ts';

/** Exit codes of every server process. */
export const EXIT_CODES = {
  /** Stopped by a signal: every in-flight request finished and resources were released. */
  stopped: 0,
  /** Could not listen, could not release its resources, or was forced to stop (grace expired, second signal). */
  failed: 1,
  /** Invalid configuration or a start-up step before listening failed (`readConfigOrExit` uses it too). */
  badStart: 2,
} as const;

export interface HttpTimeouts {
  /** Milliseconds for a whole request, body included; a slower client gets 408 and is disconnected. */
  requestTimeout: number;
  /** Milliseconds for the request headers (at most `requestTimeout`). */
  headersTimeout: number;
  /** Milliseconds an idle keep-alive connection stays open. */
  keepAliveTimeout: number;
}

export type LogLevel = 'info' | 'error';
export type ShellLog = (level: LogLevel, event: string, fields?: Record<string, unknown>) => void;

export interface RunServerOptions {
  /** Name in log lines. */
  app: string;
  server: Server;
  port: number;
  host: string;
  timeouts: HttpTimeouts;
  /** Time in-flight requests get after the first signal before the process exits anyway (non-zero). */
  shutdownGraceMs: number;
  /** Fields of the `listening` log line besides the port (URLs, issuer…). */
  listeningFields?: Record<string, unknown>;
  /** Listens on `port`/`host`; Fastify passes its own `listen`. Defaults to `server.listen`. */
  listen?: () => Promise<unknown>;
  /** Stops accepting and waits for in-flight requests; Fastify passes `app.close`. Defaults to `server.close`. */
  close?: () => Promise<unknown>;
  /** Releases what the app holds (databases, timers) once no request runs any more. */
  release?: () => Promise<unknown> | void;
  log?: ShellLog;
  /** For tests: where signals come from and what exiting means. */
  signals?: Pick<NodeJS.EventEmitter, 'on'>;
  exit?: (code: number) => void;
}

export interface RunningServer {
  /** The port actually bound (useful with port 0). */
  port: number;
}

/** How often idle keep-alive connections are closed while draining (Node keeps them until their own timeout). */
const DRAIN_SWEEP_MS = 50;

export function jsonLog(app: string): ShellLog {
  return (level, event, fields = {}) => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, app, event, ...fields });
    if (level === 'error') console.error(line);
    else console.log(line);
  };
}

export function applyTimeouts(server: Server, timeouts: HttpTimeouts): void {
  server.requestTimeout = timeouts.requestTimeout;
  server.headersTimeout = timeouts.headersTimeout;
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  // Node checks the two request timeouts on this interval (30 s by default), so a slow client could
  // otherwise hold its connection up to twice as long as configured. It is a `createServer` option
  // that Node reads from the server when it starts listening; Fastify creates its server itself.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1000, timeouts.headersTimeout);
}

/**
 * Applies the timeouts, listens, and stops gracefully: on the first SIGTERM/SIGINT no new
 * connection is accepted, a new request on an open connection gets 503 (draining.ts), in-flight
 * requests finish, resources are released, exit 0. The same
 * signal a second time, or the grace period running out, closes every connection and exits 1.
 */
export async function runServer(options: RunServerOptions): Promise<RunningServer> {
  const { server, port, host } = options;
  const log = options.log ?? jsonLog(options.app);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? process;

  applyTimeouts(server, options.timeouts);
  try {
    await (options.listen ? options.listen() : listen(server, port, host));
  } catch (err) {
    log('error', 'cannot_listen', { host, port, message: (err as Error).message });
    exit(EXIT_CODES.failed);
    throw err;
  }
  let exited = false;
  const finish = (code: number): void => {
    if (exited) return;
    exited = true;
    exit(code);
  };
  const force = (why: string): void => {
    log('error', why);
    server.closeAllConnections();
    finish(EXIT_CODES.failed);
  };
  let firstSignal: string | undefined;
  const stop = (signal: string): void => {
    if (firstSignal !== undefined) {
      // Ctrl-C under a supervisor (`npm start`) delivers SIGINT from the terminal and SIGTERM from
      // the supervisor: only the same signal again (Ctrl-C twice, an orchestrator insisting) forces.
      if (signal === firstSignal) force('shutdown_forced');
      return;
    }
    firstSignal = signal;
    log('info', 'shutting_down', { signal, graceMs: options.shutdownGraceMs });
    // A request still arriving on an open keep-alive connection is refused, not run (draining.ts).
    refuseWhileDraining(server);
    setTimeout(() => force('shutdown_grace_expired'), options.shutdownGraceMs).unref();
    const sweep = setInterval(() => server.closeIdleConnections(), DRAIN_SWEEP_MS).unref();
    (options.close ? options.close() : close(server))
      .then(() => options.release?.())
      .then(
        () => {
          clearInterval(sweep);
          log('info', 'stopped');
          finish(EXIT_CODES.stopped);
        },
        (err: Error) => {
          clearInterval(sweep);
          log('error', 'shutdown_failed', { message: err.message });
          finish(EXIT_CODES.failed);
        },
      );
  };
  signals.on('SIGTERM', () => stop('SIGTERM'));
  signals.on('SIGINT', () => stop('SIGINT'));
  // Only now: whoever waits for this line may signal at once, and must not meet Node's default
  // action (terminate without draining).
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  log('info', 'listening', { host, port: boundPort, ...options.listeningFields });
  return { port: boundPort };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}
export { redisDurabilityProblem, type RedisConfigReader, type RedisDurabilityRequirement } from './redis-durability.ts';
export { DATA_DIR_MODE, DATA_FILE_MODE, databaseFileGone, DatabaseFileGoneError, DataDirError, describeDataDirError, isSqliteOutage, keepOwnerOnly, openedDatabaseFile, openInDataDir, openSchemaVersion, ownerOnlyDatabaseFile, refuseWriteIfGone, SQLITE_CORRUPTED, SQLITE_UNAVAILABLE, sqliteIntegrityProblem, type OpenedDatabaseFile } from './data-dir.ts';
export { createDirectoryDurably, createDirectoryDurablyAsync, createEmptyFileDurably, createFileWhole, replaceFileWhole, wholeFileCalls, wholeFileCallsAsync } from './whole-file.ts';
