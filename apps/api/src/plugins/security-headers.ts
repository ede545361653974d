// Headers every response carries, errors and Swagger UI included: the API's answers are data,
// never something a browser should guess a type for and render.
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

const securityHeaders: FastifyPluginCallback = (app, _opts, done) => {
  app.addHook('onRequest', (_req, reply, next) => {
    reply.header('x-content-type-options', 'nosniff');
    next();
  });
  done();
};

export default fp(securityHeaders, { name: 'security-headers', fastify: '5.x' });
