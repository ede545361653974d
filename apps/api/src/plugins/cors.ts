// CORS for the configured browser origins only (the SPA), with the methods and headers the API
// needs and nothing else. A request from any other origin gets no CORS header at all; its
// preflight falls through to authentication (401), which the browser treats as a refusal.
// Hand-written rather than @fastify/cors: it runs on every request, and the package copies its
// options object per request, a measurable share of a cached-token request. Not a hook of its
// own: response-headers.ts calls it from the one hook that sets every response's headers.
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface CorsOptions {
  origins: readonly string[];
  methods: readonly string[];
  allowedHeaders: readonly string[];
  exposedHeaders: readonly string[];
  maxAgeSeconds: number;
}

/** Sets the CORS headers of one request; true when it answered a preflight (nothing more to do). */
export type CorsResponder = (req: FastifyRequest, reply: FastifyReply) => boolean;

export function corsResponder(opts: CorsOptions): CorsResponder {
  const allowed = new Set(opts.origins);
  const methods = opts.methods.join(', ');
  const allowHeaders = opts.allowedHeaders.join(', ');
  const exposeHeaders = opts.exposedHeaders.join(', ');
  const maxAge = String(opts.maxAgeSeconds);

  return (req, reply) => {
    // Every answer varies by Origin, those to requests without one too: a shared cache that
    // stored one of them (the OpenAPI document, Swagger UI's files, a 401) would otherwise hand it,
    // without Access-Control-Allow-Origin, to the SPA's CORS request for the same URL.
    reply.header('vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    if (!allowed.has(origin)) return false;
    reply.header('access-control-allow-origin', origin);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      reply.header('access-control-allow-methods', methods)
        .header('access-control-allow-headers', allowHeaders)
        .header('access-control-max-age', maxAge)
        .code(204).header('content-length', '0').send();
      return true;
    }
    reply.header('access-control-expose-headers', exposeHeaders);
    return false;
  };
}
