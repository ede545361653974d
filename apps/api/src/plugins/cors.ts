// CORS for the configured browser origins only (the SPA), with the methods and headers the API
// needs and nothing else. A request from any other origin gets no CORS header at all; its
// preflight falls through to authentication (401), which the browser treats as a refusal.
// Hand-written rather than @fastify/cors: this hook runs on every request, and the package
// copies its options object per request, a measurable share of a cached-token request.
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

export interface CorsOptions {
  origins: readonly string[];
  methods: readonly string[];
  allowedHeaders: readonly string[];
  exposedHeaders: readonly string[];
  maxAgeSeconds: number;
}

const cors: FastifyPluginCallback<CorsOptions> = (app, opts, done) => {
  const allowed = new Set(opts.origins);
  const methods = opts.methods.join(', ');
  const allowHeaders = opts.allowedHeaders.join(', ');
  const exposeHeaders = opts.exposedHeaders.join(', ');
  const maxAge = String(opts.maxAgeSeconds);

  app.addHook('onRequest', (req, reply, next) => {
    const origin = req.headers.origin;
    // Requests without Origin (not from a browser's CORS machinery) carry no Vary: every
    // authenticated answer is no-store, so no cache can hand one to a CORS request.
    if (origin === undefined) return next();
    reply.header('vary', 'Origin');
    if (!allowed.has(origin)) return next();
    reply.header('access-control-allow-origin', origin);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      reply.header('access-control-allow-methods', methods)
        .header('access-control-allow-headers', allowHeaders)
        .header('access-control-max-age', maxAge)
        .code(204).header('content-length', '0').send();
      return;
    }
    reply.header('access-control-expose-headers', exposeHeaders);
    next();
  });
  done();
};

export default fp(cors, { name: 'cors', fastify: '5.x' });
