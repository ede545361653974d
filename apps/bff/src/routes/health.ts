// Liveness, and readiness: the IdP's metadata discovered and the session store answering.
import type { FastifyPluginCallback } from 'fastify';
import type { BffContext } from '../context.ts';
import { sendProblem } from '../problem.ts';

export const healthRoutes: FastifyPluginCallback<{ ctx: BffContext }> = (app, { ctx }, done) => {
  app.get('/healthz', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!ctx.idp.ready) return sendProblem(reply.header('retry-after', '1'), 503, 'The identity provider\'s metadata is not loaded yet.');
    try {
      await ctx.sessions.store.ping();
    } catch {
      return sendProblem(reply.header('retry-after', '1'), 503, 'The session store is not answering.');
    }
    return reply.header('cache-control', 'no-store').send({ status: 'ready' });
  });
  done();
};
