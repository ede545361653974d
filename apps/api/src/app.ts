// Builds the resource API (no listening here: see server.ts). Tests drive it with inject().
import { join } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Authority } from './authority.ts';
import type { ApiConfig } from './config.ts';
import { answerClientError, loggedError, strictTransportSecurity, type HttpTimeouts } from '@suite/process-shell';
import { BODY_LIMIT_BYTES, CORS_MAX_AGE_SECONDS, HTTP_TIMEOUTS, JWKS_CACHE_FILE, REFUSAL_LOG_WINDOW_SECONDS, ROUTER_MAX_PARAM_LENGTH } from './defaults.ts';
import { Introspector } from './introspection.ts';
import { IssuerKeyCache } from './issuer-key-cache.ts';
import { NotesStore } from './notes-store.ts';
import { buildPolicies } from './policies.ts';
import { problem, sendProblem } from './problem.ts';
import { RefusalLog, type RefusalObserver } from './refusal-log.ts';
import { apiLogging, type ApiLoggerOptions } from './logging.ts';
import authentication from './plugins/authentication.ts';
import errors from './plugins/errors.ts';
import openapi, { SWAGGER_PREFIX } from './plugins/openapi.ts';
import { corsResponder } from './plugins/cors.ts';
import responseHeaders from './plugins/response-headers.ts';
import { healthRoutes } from './routes/health.ts';
import { notesRoutes } from './routes/notes.ts';
import { noteSchema, problemSchema } from './routes/schemas.ts';
import { serviceOneRoutes } from './routes/service-one.ts';
import { userOneRoutes } from './routes/user-one.ts';
import { TokenValidator } from './token-validator.ts';
import { VerifiedTokenCache } from './verified-token-cache.ts';
import { AccessTokenVerifier } from './verify-access-token.ts';

export interface Api {
  app: FastifyInstance;
  /** The process's logger (`app.log`). */
  log: FastifyBaseLogger;
  authority: Authority;
  tokenCache: VerifiedTokenCache;
  introspector: Introspector;
  store: NotesStore;
}

export interface BuildOptions {
  /** pino options (with `stream`), or false for no logs; defaults to JSON logs at API_LOG_LEVEL. */
  logger?: false | ApiLoggerOptions;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
  /** Told of every refusal with its reason code (tests, metrics). */
  onRefusal?: RefusalObserver;
}

/** The HTTP timeouts the process shell applies (defaults.ts), with the configured request timeout. */
export function httpTimeouts(config: Pick<ApiConfig, 'API_REQUEST_TIMEOUT'>): HttpTimeouts {
  const requestTimeout = config.API_REQUEST_TIMEOUT * 1000;
  return { ...HTTP_TIMEOUTS, requestTimeout, headersTimeout: Math.min(HTTP_TIMEOUTS.headersTimeout, requestTimeout) };
}

/** Log options: tokens, cookies and query strings never reach a log line. */
export function loggerOptions(level: string): ApiLoggerOptions {
  return {
    level,
    base: { app: 'api' },
    // The same line shape as the IdP's: ISO time, level by name.
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'authorization', 'token', 'access_token'],
      censor: '[redacted]',
    },
    serializers: {
      // The path only: a token pasted into the query string must not be logged either.
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, path: req.url.split('?', 1)[0], remoteAddress: req.ip }),
      // Type, message, code and stack only: not whatever a library attached to the error.
      err: loggedError,
    },
  };
}

export function buildApi(config: ApiConfig, options: BuildOptions = {}): Api {
  const hsts = strictTransportSecurity(config.API_PUBLIC_URL || undefined, config.API_HSTS_MAX_AGE);
  const logging = apiLogging(config.API_LOG_LEVEL, options.logger ?? loggerOptions(config.API_LOG_LEVEL));
  const cors = corsResponder({
    origins: config.API_CORS_ORIGINS,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    // Every header a browser client is meant to act on and cannot read otherwise (Content-Type is
    // readable anyway): the bearer challenge of a 401/403, when to retry a 503.
    exposedHeaders: ['WWW-Authenticate', 'Retry-After'],
    maxAgeSeconds: CORS_MAX_AGE_SECONDS,
  });
  const app = Fastify({
    // A URL Fastify cannot decode (`/api/notes/%E0%A4%A`) is answered like every other error,
    // with the headers every answer carries (the router answers it before any hook runs).
    frameworkErrors: (_err, req, reply) => {
      reply.header('x-content-type-options', 'nosniff');
      if (hsts !== undefined) reply.header('strict-transport-security', hsts);
      if (cors(req, reply)) return;
      sendProblem(reply, problem(400, 'The request URL is malformed.'));
    },
    // What Node's HTTP parser refuses (431, 408, malformed requests) is answered in the same shape.
    clientErrorHandler: answerClientError,
    ...logging.fastify,
    // Paths in any case and with one trailing slash are the route, with its checks (decision 0058).
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: ROUTER_MAX_PARAM_LENGTH },
    bodyLimit: BODY_LIMIT_BYTES,
    // Strict schemas: no type coercion, unknown properties refused rather than silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
  });
  if (logging.root) app.log = logging.root;
  const log = app.log;

  const now = options.now ?? Date.now;
  const refusals = new RefusalLog({
    linesPerReason: config.API_REFUSAL_LOG_LINES,
    windowMs: REFUSAL_LOG_WINDOW_SECONDS * 1000,
    now,
    log,
    onRefusal: options.onRefusal,
  });
  const tokenCache = new VerifiedTokenCache(config.AUTH_TOKEN_CACHE_SIZE);
  const authority = new Authority({
    issuer: config.AUTH_AUTHORITY,
    algorithms: config.AUTH_ALGORITHMS,
    jwksMaxAgeMs: config.AUTH_JWKS_MAX_AGE * 1000,
    jwksCooldownMs: config.AUTH_JWKS_COOLDOWN * 1000,
    cache: config.AUTH_JWKS_CACHE_MAX_AGE > 0 ? new IssuerKeyCache(join(config.API_DATA_DIR, JWKS_CACHE_FILE), config.AUTH_JWKS_CACHE_MAX_AGE * 1000, now) : undefined,
    now,
    log: (level, msg) => log[level](msg),
    onKeysRetired: () => tokenCache.dropRetired(),
  });
  const verifier = new AccessTokenVerifier({
    issuer: config.AUTH_AUTHORITY,
    audience: config.AUTH_AUDIENCE,
    algorithms: config.AUTH_ALGORITHMS,
    tokenTypes: config.AUTH_TOKEN_TYPES,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE,
    now,
  }, authority, tokenCache);
  const introspector = new Introspector({
    issuer: config.AUTH_AUTHORITY,
    audience: config.AUTH_AUDIENCE,
    clientId: config.API_CLIENT_ID,
    clientSecret: config.API_CLIENT_SECRET,
    cacheTtlSeconds: config.AUTH_INTROSPECTION_CACHE_TTL,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE,
    now,
    log: (level, msg) => log[level](msg),
  }, authority);
  const validator = new TokenValidator(config.AUTH_TOKEN_FORMAT, verifier, introspector);
  const store = new NotesStore(config.API_DATA_DIR, config.API_SQLITE_SYNCHRONOUS);
  const policies = buildPolicies({
    requiredScope: config.AUTH_REQUIRED_SCOPE, allowedClients: config.AUTH_ALLOWED_CLIENTS,
    serviceScope: config.AUTH_SERVICE_SCOPE, allowedServiceClients: config.AUTH_ALLOWED_SERVICE_CLIENTS,
  });

  app.addSchema(problemSchema);
  app.addSchema(noteSchema);
  app.register(responseHeaders, { requestLogger: logging.requestLogger, cors, strictTransportSecurity: hsts });
  app.register(authentication, { validator, policies, maxTokenLength: config.AUTH_MAX_TOKEN_LENGTH, refusals, publicPrefixes: [SWAGGER_PREFIX] });
  app.register(errors);
  app.register(openapi, { authority, audience: config.AUTH_AUDIENCE, requiredScope: config.AUTH_REQUIRED_SCOPE, swaggerClientId: config.API_SWAGGER_CLIENT_ID });
  app.register(healthRoutes, { authority });
  app.register(userOneRoutes, { requiredScope: config.AUTH_REQUIRED_SCOPE });
  app.register(notesRoutes, { store, requiredScope: config.AUTH_REQUIRED_SCOPE });
  app.register(serviceOneRoutes, { serviceScope: config.AUTH_SERVICE_SCOPE });

  app.addHook('onClose', async () => {
    refusals.flush();
    await authority.stop();
    store.close();
  });
  void authority.start();
  return { app, log, authority, tokenCache, introspector, store };
}
