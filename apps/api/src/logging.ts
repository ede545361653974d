// How the API's log lines reach Fastify. Fastify treats a configured logger as a reason to time
// every response: it takes `performance.now()` twice and adds and removes 'finish' and 'error'
// listeners on every response, all to write "request completed" lines, which the API writes only
// at debug level. Below debug the API builds the same pino logger itself and gives Fastify none:
// `app.log` is that logger and `request.log` is built from it on first use (request-logger.ts),
// so every line is written as before and no response carries the listeners (bench/README.md:
// about 1.5 % of a cached-token request's CPU).
import pino, { type DestinationStream, type LoggerOptions } from 'pino';
import { LogController, type FastifyBaseLogger, type FastifyServerOptions } from 'fastify';
import { lazyChildLogger } from './request-logger.ts';

/** pino's options, plus the destination Fastify's `logger` option takes as `stream`. */
export type ApiLoggerOptions = LoggerOptions & { stream?: DestinationStream };

export interface ApiLogging {
  /** Fastify's logging options: `logger`, `childLoggerFactory`, `logController`. */
  fastify: Pick<FastifyServerOptions, 'logger' | 'childLoggerFactory' | 'logController'>;
  /** The logger to install as `app.log` once Fastify is built, when Fastify has none of its own. */
  root?: FastifyBaseLogger;
}

// Fastify adds these to the pino logger it builds; a line logged through ours must look the same.
const FASTIFY_SERIALIZERS = {
  err: pino.stdSerializers.err,
  res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
};

/**
 * `logger: false` logs nothing (tests). At debug level Fastify gets the logger, for its
 * per-request lines; at any other level the API's own logger stands in for it.
 */
export function apiLogging(level: string, logger: false | ApiLoggerOptions): ApiLogging {
  if (logger === false) return { fastify: { logger: false } };
  // One line per request only at debug level: the hot path stays free of I/O.
  const accessLogs = level === 'debug';
  if (accessLogs) {
    return {
      fastify: {
        logger,
        logController: new LogController({ disableRequestLogging: false }),
        // request.log built on first use: nothing logs on the hot path (see request-logger.ts).
        childLoggerFactory: lazyChildLogger,
      },
    };
  }
  const { stream, serializers, ...options } = logger;
  const root = pino({ ...options, serializers: { ...FASTIFY_SERIALIZERS, ...serializers } }, stream) as FastifyBaseLogger;
  return {
    fastify: {
      logger: false,
      logController: new LogController({ disableRequestLogging: true }),
      // Fastify hands its null logger to the factory: request.log is a child of ours instead.
      childLoggerFactory: (_null, bindings, options) => lazyChildLogger(root, bindings, options),
    },
    root,
  };
}
