// Headers every response carries, errors and Swagger UI included: `nosniff` (the API's answers
// are data, never something a browser should guess a type for and render), Strict-Transport-Security
// when API_PUBLIC_URL is https:// (one constant header; none on http://, decision 0059), and CORS
// for the configured origins (cors.ts). One onRequest hook for both: Fastify runs its hooks through a
// runner that costs every request a call per hook, and these two run on every request. The same
// hook, registered before any other, gives the request its logger when Fastify has none to give
// (logging.ts): every routed request and every 404 runs it before anything logs.
import type { FastifyBaseLogger, FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { CorsResponder } from './cors.ts';

export interface ResponseHeadersOptions {
  /** Sets the CORS headers (cors.ts); also used for the answers Fastify gives before any hook (app.ts). */
  cors: CorsResponder;
  /** The logger of one request, installed as `request.log` and `reply.log` (logging.ts). */
  requestLogger?: (req: FastifyRequest) => FastifyBaseLogger;
  /** Strict-Transport-Security of every answer, or none (an http:// public URL). */
  strictTransportSecurity?: string | undefined;
}

const responseHeaders: FastifyPluginCallback<ResponseHeadersOptions> = (app, opts, done) => {
  const { cors, requestLogger, strictTransportSecurity: hsts } = opts;
  if (requestLogger === undefined) {
    app.addHook('onRequest', (req, reply, next) => {
      reply.header('x-content-type-options', 'nosniff');
      if (hsts !== undefined) reply.header('strict-transport-security', hsts);
      if (!cors(req, reply)) next();
    });
  } else {
    app.addHook('onRequest', (req, reply, next) => {
      req.log = reply.log = requestLogger(req);
      reply.header('x-content-type-options', 'nosniff');
      if (hsts !== undefined) reply.header('strict-transport-security', hsts);
      if (!cors(req, reply)) next();
    });
  }
  done();
};

export default fp(responseHeaders, { name: 'response-headers', fastify: '5.x' });
