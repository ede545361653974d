// Row (f): Express 5 with Auth0's official middleware, configured as its README shows: the issuer
// (whose discovery document gives the JWKS), the audience, and the scope the route requires.
import express, { type ErrorRequestHandler } from 'express';
import { auth, claimEquals, requiredScopes } from 'express-oauth2-jwt-bearer';
import { CLIENT_CLAIM, CLIENT_ID, readBenchEnv, USER_ONE_BODY, USER_ONE_PATH } from './route.ts';

const env = readBenchEnv();
const app = express();
app.disable('x-powered-by');
app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
app.get(
  USER_ONE_PATH,
  auth({ issuerBaseURL: env.issuer, audience: env.audience, tokenSigningAlg: 'RS256' }),
  requiredScopes(env.scope),
  claimEquals(CLIENT_CLAIM, CLIENT_ID),
  (_req, res) => { res.json(USER_ONE_BODY); },
);
// The middleware's errors carry their status and WWW-Authenticate; answer them without a stack trace.
const onError: ErrorRequestHandler = (err: { status?: number; headers?: Record<string, string> }, _req, res, _next) => {
  res.status(err.status ?? 500).set(err.headers ?? {}).json({ error: err.status === 403 ? 'insufficient_scope' : 'invalid_token' });
};
app.use(onError);
const server = app.listen(env.port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
