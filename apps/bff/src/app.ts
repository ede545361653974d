// Builds the Backend-for-Frontend (no listening here: see server.ts). Tests drive it with inject().
// The browser gets the SPA and an HttpOnly session cookie; tokens stay in the server-side session.
import { setTimeout as sleep } from 'node:timers/promises';
import cookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { answerClientError, isSqliteOutage, loggedError } from '@suite/process-shell';
import { createSpaHandler } from '@suite/spa-hosting';
import type { BffConfig } from './config.ts';
import type { BffContext } from './context.ts';
import * as d from './defaults.ts';
import { IdpClient, type IdpClientOptions } from './idp-client.ts';
import csrf from './plugins/csrf.ts';
import { sendProblem } from './problem.ts';
import { apiProxy } from './routes/api-proxy.ts';
import { backchannelRoutes } from './routes/backchannel.ts';
import { healthRoutes } from './routes/health.ts';
import { loginRoutes } from './routes/login.ts';
import { sessionRoutes } from './routes/session.ts';
import { openSessionStore } from './sessions/open-store.ts';
import { SessionManager, type AuditLog } from './sessions/session-manager.ts';
import type { SessionStore } from './sessions/session-store.ts';
import { LoginSealer } from './login-cookie.ts';
import { loadTokenKeys, TokenCipher } from './token-cipher.ts';

export interface Bff {
  app: FastifyInstance;
  sessions: SessionManager;
  store: SessionStore;
  idp: IdpClient;
  /** The shared pieces, for plugins added beside the built-in routes (back-channel logout). */
  ctx: BffContext;
}

export interface BuildOptions {
  /** Where the JSON log lines go (default stdout), for tests that read the audit log. */
  logStream?: { write(line: string): void };
  /** Clock in milliseconds, for tests. */
  now?: () => number;
  /** Every HTTP call to the IdP goes through it (tests count refreshes with it). */
  idpFetch?: IdpClientOptions['fetch'];
  /** A bounded wait (logout's for the revocation): resolves after `ms`, for tests when they choose. */
  wait?: (ms: number) => Promise<void>;
}

/** Log options: tokens, cookies, codes and query strings never reach a log line. */
export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    base: { app: 'bff' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie'],
      censor: '[redacted]',
    },
    serializers: {
      // The path only: the callback's query carries the authorization code.
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, path: req.url.split('?', 1)[0], remoteAddress: req.ip }),
      err: loggedError,
    },
  };
}

export async function buildBff(config: BffConfig, options: BuildOptions = {}): Promise<Bff> {
  const production = config.BFF_PROFILE === 'production';
  if (production) {
    if (config.BFF_CLIENT_SECRET === d.DEV_CLIENT_SECRET) throw new Error('the production profile refuses the development client secret: set BFF_CLIENT_SECRET');
    if (!config.publicUrl.startsWith('https://')) throw new Error('the production profile needs an https:// BFF_PUBLIC_URL');
  }
  const now = options.now ?? Date.now;
  const headers = d.answerHeaders(config.strictTransportSecurity);
  const app = Fastify({
    logger: { ...(loggerOptions(config.BFF_LOG_LEVEL) as object), ...(options.logStream ? { stream: options.logStream } : {}) },
    // One line per request only at debug level; audit events are logged whatever the level but silent.
    logController: new LogController({ disableRequestLogging: config.BFF_LOG_LEVEL !== 'debug' }),
    bodyLimit: d.BODY_LIMIT_BYTES,
    return503OnClosing: true,
    // A URL Fastify cannot decode (`/api/%zz`) is answered like every other refusal.
    frameworkErrors: (_err, _req, reply) => {
      sendProblem(reply.headers(headers), 400, 'The request URL is malformed.');
    },
    // What Node's HTTP parser refuses (431, 408, malformed requests) is answered in the same shape.
    clientErrorHandler: answerClientError,
  });
  const audit: AuditLog = (event, fields) => app.log.info({ audit: event, ...fields }, `audit ${event}`);

  const { keys, generated } = loadTokenKeys(config.BFF_TOKEN_KEYS, config.BFF_DATA_DIR, production);
  if (generated) app.log.warn({ dataDir: config.BFF_DATA_DIR }, 'generated a development token key in the data directory; set BFF_TOKEN_KEYS outside development');
  for (const name of config.retiredSettings) {
    app.log.warn({ setting: name }, `${name} is set but no longer read (docs/decisions/0071): remove it; the next release refuses it`);
  }
  const store = await openSessionStore(config, now, app.log);
  const idp = new IdpClient({
    issuer: config.BFF_AUTHORITY,
    clientId: config.BFF_CLIENT_ID,
    clientSecret: config.BFF_CLIENT_SECRET,
    redirectUri: config.redirectUri,
    scope: config.BFF_SCOPE,
    audience: config.BFF_AUDIENCE,
    logoutHint: config.BFF_LOGOUT_HINT,
    now,
    ...(options.idpFetch ? { fetch: options.idpFetch } : {}),
    onRefused: (endpoint, error) => app.log.error({ endpoint, error, clientId: config.BFF_CLIENT_ID },
      'the identity provider refused the BFF itself: check BFF_CLIENT_ID, BFF_CLIENT_SECRET and the client\'s registration there'),
  });
  const sessions = new SessionManager({
    store,
    cipher: new TokenCipher(keys),
    idp,
    now,
    idleTtlMs: config.BFF_SESSION_IDLE_TTL * 1000,
    absoluteTtlMs: config.BFF_SESSION_ABSOLUTE_TTL * 1000,
    renewBeforeMs: config.BFF_RENEW_BEFORE_EXPIRY * 1000,
    touchIntervalMs: d.SESSION_TOUCH_INTERVAL_SECONDS * 1000,
    cacheSize: config.BFF_SESSION_CACHE_SIZE,
    defaultAccessTokenTtlMs: d.ASSUMED_ACCESS_TOKEN_TTL_SECONDS * 1000,
    lock: { ttlMs: d.REFRESH_LOCK_TTL_MS, waitMs: d.REFRESH_LOCK_WAIT_MS },
    audit,
  });
  const ctx: BffContext = {
    config, idp, sessions, audit, now,
    wait: options.wait ?? ((ms) => sleep(ms, undefined, { ref: false })),
    cookies: { sameSite: config.BFF_SESSION_COOKIE_SAMESITE, loginTtlSeconds: config.BFF_LOGIN_TTL },
    answerHeaders: headers,
  };

  // Answers of the BFF itself (not the SPA's files, not the API's): never cached, never framed.
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.headers(headers);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  // Before the routes are registered: a plugin's routes keep the error handler their plugin saw
  // when it was registered, so one set after them answers none of /bff/* and /api/*.
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) return sendProblem(reply, status);
    req.log.error({ err }, 'request failed');
    // The session store cannot serve now (disk full, read-only, its file gone): an outage, not a bug.
    if (isSqliteOutage(err)) return sendProblem(reply.header('retry-after', String(d.STORE_OUTAGE_RETRY_AFTER_SECONDS)), 503);
    return sendProblem(reply, 500);
  });
  // Setting cookies only: each route reads the one cookie it needs (plugins/session-cookie.ts).
  await app.register(cookie, { hook: false });
  await app.register(csrf, { audit });
  await app.register(healthRoutes, { ctx });
  await app.register(loginRoutes, { ctx, sealer: new LoginSealer(keys) });
  await app.register(sessionRoutes, { ctx });
  await app.register(apiProxy, { ctx });
  await app.register(backchannelRoutes, { ctx });

  const spa = createSpaHandler({ distDir: config.BFF_SPA_DIST, runtimeConfig: { mode: 'bff', apiUrl: config.publicUrl }, connectOrigins: [], strictTransportSecurity: config.strictTransportSecurity });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?', 1)[0]!.toLowerCase();
    if (path === '/bff' || path.startsWith('/bff/')) return sendProblem(reply, 404, 'No such endpoint.');
    reply.hijack();
    spa(req.raw, reply.raw);
  });

  idp.start((err) => app.log.warn({ err: (err as Error).message }, 'identity provider discovery failed; retrying'));
  app.addHook('onClose', async () => {
    idp.stop();
    await store.close();
  });
  return { app, sessions, store, idp, ctx };
}
