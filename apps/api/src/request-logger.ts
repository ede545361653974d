// The per-request logger (request.log), created only when a request actually logs. Fastify builds
// a pino child with the request id for every request when a logger is configured, the largest
// single share of the API's per-request cost over a bare route (bench/README.md), although on the
// hot path nothing logs (access logs are off unless debug). This stand-in holds the parent and
// the bindings and builds the same child on the first log call, so a line that is logged is
// exactly the line pino's child would write (request id, redaction, serializers included). At
// debug level Fastify builds it through its childLoggerFactory; below debug the API's first
// onRequest hook installs it (logging.ts: a factory costs every request Fastify's check of it).
import type { FastifyBaseLogger, FastifyLogFn as LogFn } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildLoggerOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;

export class LazyRequestLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** The real child logger, built once. */
  get logger(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  // Level methods live on the prototype (below), so a request that never logs allocates only this
  // object.
  declare fatal: LogFn;
  declare error: LogFn;
  declare warn: LogFn;
  declare info: LogFn;
  declare debug: LogFn;
  declare trace: LogFn;
  declare silent: LogFn;

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) {
  Object.defineProperty(LazyRequestLogger.prototype, level, {
    value(this: LazyRequestLogger, ...args: Parameters<LogFn>) {
      return (this.logger[level] as (...a: unknown[]) => void)(...args);
    },
    writable: true,
    configurable: true,
  });
}

/** Fastify `childLoggerFactory`: the request's logger, built lazily. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options);
}
