// Row (h′): the practical limit of row (h). Fastify forwarding GET /api/* to the API with a fixed
// bearer token through the BFF's own transport (apps/bff/src/api-upstream.ts: one undici Pool,
// streamed, the BFF's answer headers), and nothing else: no session, no cookie, no CSRF or path
// check. What (h) costs over it is what the BFF's checks and its session add.
import Fastify from 'fastify';
import { ApiUpstream } from '../../apps/bff/src/api-upstream.ts';
import { ANSWER_HEADERS, API_CONNECTIONS, API_TIMEOUT_MS } from '../../apps/bff/src/defaults.ts';
import { readBenchEnv } from './route.ts';

const env = readBenchEnv();
const upstream = process.env['BENCH_UPSTREAM'];
const token = process.env['BENCH_TOKEN'];
if (!upstream || !token) throw new Error('BENCH_UPSTREAM and BENCH_TOKEN are needed');
const api = new ApiUpstream(upstream, { connections: API_CONNECTIONS, timeoutMs: API_TIMEOUT_MS });
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/api/*', (req, reply) => {
  reply.hijack();
  api.forward(req.raw, reply.raw, {
    method: 'GET', path: req.url, headers: { authorization: `Bearer ${token}` }, body: null, answerHeaders: ANSWER_HEADERS,
    onUnreachable: () => reply.raw.writeHead(502).end(),
  });
});
await app.listen({ port: env.port, host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => api.close()).then(() => process.exit(0)));
