// Liveness and readiness, both public. Ready means the issuer's metadata and keys are loaded, so
// tokens can be validated.
import type { FastifyPluginCallback } from 'fastify';
import type { Authority } from '../authority.ts';
import { problem, sendProblem } from '../problem.ts';

const status = { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } as const;

export const healthRoutes: FastifyPluginCallback<{ authority: Authority }> = (app, { authority }, done) => {
  app.get('/healthz', { config: { public: true }, schema: { tags: ['Health'], summary: 'Liveness', response: { 200: status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', {
    config: { public: true },
    schema: { tags: ['Health'], summary: 'Readiness: issuer metadata and signing keys loaded', response: { 200: status, 503: { $ref: 'Problem#' } } },
  }, async (_req, reply) => {
    if (authority.ready) return { status: 'ready' };
    return sendProblem(reply.header('retry-after', '1'), problem(503, 'Issuer metadata and signing keys are not loaded yet.'));
  });
  done();
};
