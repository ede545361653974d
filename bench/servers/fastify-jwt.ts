// Row (g): Fastify with @fastify/jwt, keys fetched from the issuer's JWKS with get-jwks, the
// integration @fastify/jwt's and get-jwks's READMEs show. Issuer, audience and algorithm are pinned;
// the route requires the API scope and the SPA as authorized party.
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt';
import Fastify, { type FastifyRequest } from 'fastify';
import buildGetJwks from 'get-jwks';
import { CLIENT_CLAIM, CLIENT_ID, readBenchEnv, USER_ONE_BODY, USER_ONE_PATH, USER_ONE_SCHEMA } from './route.ts';

const env = readBenchEnv();
const ERROR_SCHEMA = { type: 'object', properties: { error: { type: 'string' } } } as const;
const getJwks = buildGetJwks({ providerDiscovery: true, issuersWhitelist: [env.issuer] });
const app = Fastify({ logger: false });
await app.register(fastifyJwt, {
  decode: { complete: true },
  secret: (_request: FastifyRequest, token: TokenOrHeader) => {
    const { header, payload } = token as { header: { kid?: string; alg?: string }; payload: { iss?: string } };
    return getJwks.getPublicKey({ kid: header.kid, alg: header.alg, domain: payload.iss });
  },
  verify: { allowedIss: env.issuer, allowedAud: env.audience, algorithms: ['RS256'] },
});
app.get('/healthz', async () => ({ status: 'ok' }));
app.get(USER_ONE_PATH, {
  schema: { response: { 200: USER_ONE_SCHEMA, '4xx': ERROR_SCHEMA } },
  onRequest: async (request, reply) => {
    try {
      await request.jwtVerify();
    } catch {
      return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ error: 'invalid_token' });
    }
    const claims = request.user as Record<string, unknown>;
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes(env.scope) || claims[CLIENT_CLAIM] !== CLIENT_ID) {
      return reply.code(403).send({ error: 'insufficient_scope' });
    }
  },
}, async () => USER_ONE_BODY);
await app.listen({ port: env.port, host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
