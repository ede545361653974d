// The bound of row (d), measured rather than computed: row (a)'s bare Fastify route plus one RS256
// signature check of the bearer token against the issuer's key (node:crypto.verify, KeyObject)
// and nothing else: no JOSE header, no claims, no cache, no policy, no error answers worth the
// name. Not a verifier anyone should deploy; it only shows what a request that checks one
// signature costs when everything around it is free, under the same load as (d).
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import Fastify from 'fastify';
import { readBenchEnv, USER_ONE_BODY, USER_ONE_PATH, USER_ONE_SCHEMA } from './route.ts';

const env = readBenchEnv();
const discovery = (await (await fetch(`${env.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
const { keys } = (await (await fetch(discovery.jwks_uri)).json()) as { keys: (JsonWebKey & { alg?: string; use?: string })[] };
const jwk = keys.find((k) => k.kty === 'RSA' && (k.alg ?? 'RS256') === 'RS256' && (k.use ?? 'sig') === 'sig');
if (!jwk) throw new Error('the issuer publishes no RS256 key');
const key = createPublicKey({ key: jwk, format: 'jwk' });

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get(USER_ONE_PATH, {
  schema: { response: { 200: USER_ONE_SCHEMA } },
  onRequest: (req, _reply, done) => {
    const token = req.headers.authorization?.slice(7) ?? '';
    const lastDot = token.lastIndexOf('.');
    const ok = lastDot > 0 && verify('sha256', Buffer.from(token.slice(0, lastDot), 'latin1'), key, Buffer.from(token.slice(lastDot + 1), 'base64url'));
    done(ok ? undefined : Object.assign(new Error('invalid token'), { statusCode: 401 }));
  },
}, async () => USER_ONE_BODY);
await app.listen({ port: env.port, host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
