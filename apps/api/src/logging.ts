// How the API's log lines reach Fastify. Fastify treats a configured logger as a reason to time
// every response: it takes `performance.now()` twice and adds and removes 'finish' and 'error'
// listeners on every response, all to write "request completed" lines, which the API writes only
// at debug level. Below debug the API builds the same pino logger itself and gives Fastify none:
// `app.log` is that logger, so no response carries the listeners (bench/README.md: about 1.5 % of
// a cached-token request's CPU).
//
// Nor does Fastify get a `childLoggerFactory` below debug: with one, Fastify builds a bindings
// object for every request, calls the factory and checks its result for seven methods by name
// (`validateLogger`: 0.2-0.3 µs in a loop, bench/README.md). Without one, a
// Fastify without a logger hands every request its null logger, and the API's first onRequest
// hook (plugins/response-headers.ts), which every routed request and every 404 runs before
// anything else, gives `request.log` and `reply.log` the request's own logger (`requestLogger`,
// built on first use: request-logger.ts). So every line is written as before, with its request id.
// Only what Fastify logs before any hook runs goes through the LogController below: its 503 while
// closing (without a request id: Fastify gives it no request), and the "incoming request" line,
// which is off below debug anyway.
import pino, { type DestinationStream, type LoggerOptions } from 'pino';
import { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { LazyRequestLogger, lazyChildLogger } from './request-logger.ts';

/** pino's options, plus the destination Fastify's `logger` option takes as `stream`. */
export type ApiLoggerOptions = LoggerOptions & { stream?: DestinationStream };

export interface ApiLogging {
  /** Fastify's logging options: `logger`, `childLoggerFactory`, `logController`. */
  fastify: Pick<FastifyServerOptions, 'logger' | 'childLoggerFactory' | 'logController'>;
  /** The logger to install as `app.log` once Fastify is built, when Fastify has none of its own. */
  root?: FastifyBaseLogger;
  /**
   * When Fastify has neither a logger nor a child-logger factory: the logger of one request, which
   * the first onRequest hook installs as `request.log` and `reply.log`.
   */
  requestLogger?: (req: FastifyRequest) => FastifyBaseLogger;
}

/** Fastify's label for the request id in a request's log lines (its default `requestIdLogLabel`). */
const REQUEST_ID_LABEL = 'reqId';

/** Fastify's LogController, with the line it writes before any hook runs sent to the API's logger. */
class ApiLogController extends LogController {
  readonly #root: FastifyBaseLogger;

  constructor(root: FastifyBaseLogger) {
    super({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LABEL });
    this.#root = root;
  }

  /** A request refused while the server closes: Fastify hands over its null logger and no request. */
  override serviceUnavailable(_logger: FastifyBaseLogger, server: FastifyInstance): void {
    super.serviceUnavailable(this.#root, server);
  }
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
    fastify: { logger: false, logController: new ApiLogController(root) },
    root,
    // The routes set no logLevel or logSerializers, the only child options Fastify would pass.
    requestLogger: (req) => new LazyRequestLogger(root, { [REQUEST_ID_LABEL]: req.id }, {}),
  };
}
