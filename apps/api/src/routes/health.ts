// Liveness and readiness, both public. Ready means the issuer's metadata and keys are loaded, so
// tokens can be validated; `keys` says whether they come from the IdP or from the copy kept on
// disk (the IdP was unreachable at start-up).
import type { FastifyPluginCallback } from 'fastify';
import type { Authority } from '../authority.ts';
import { problem, sendProblem } from '../problem.ts';
import { problemResponse } from './schemas.ts';

const status = { 'x-response-description': 'Alive', type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } as const;
const readiness = {
  'x-response-description': 'Ready to check tokens',
  type: 'object',
  properties: {
    status: { type: 'string' },
    keys: { type: 'string', enum: ['issuer', 'cache'], description: 'issuer: keys fetched from the IdP; cache: the IdP is unreachable, the keys kept from an earlier run are used' },
    cachedAt: { type: 'string', description: 'When the cached keys were last confirmed by the IdP' },
  },
  required: ['status', 'keys'],
} as const;

export const healthRoutes: FastifyPluginCallback<{ authority: Authority }> = (app, { authority }, done) => {
  app.get('/healthz', { config: { public: true }, schema: { tags: ['Health'], summary: 'Liveness', response: { 200: status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', {
    config: { public: true },
    schema: { tags: ['Health'], summary: 'Readiness: issuer metadata and signing keys loaded', response: { 200: readiness, 503: problemResponse('Not ready: the issuer\'s metadata and signing keys are not loaded yet', { 'Retry-After': { type: 'string', description: 'Seconds before asking again' } }) } },
  }, async (_req, reply) => {
    if (authority.ready && authority.keySource === 'cache') return { status: 'ready', keys: 'cache', cachedAt: new Date(authority.cachedAt!).toISOString() };
    if (authority.ready) return { status: 'ready', keys: 'issuer' };
    return sendProblem(reply.header('retry-after', '1'), problem(503, 'Issuer metadata and signing keys are not loaded yet.'));
  });
  done();
};
