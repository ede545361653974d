// Row (a): the practical limit. Fastify with the same route and response schema as our API and
// no authentication at all.
import Fastify from 'fastify';
import { readBenchEnv, USER_ONE_BODY, USER_ONE_PATH, USER_ONE_SCHEMA } from './route.ts';

const env = readBenchEnv();
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get(USER_ONE_PATH, { schema: { response: { 200: USER_ONE_SCHEMA } } }, async () => USER_ONE_BODY);
await app.listen({ port: env.port, host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
