// Strict-Transport-Security from all four apps (decision 0059): on every kind of answer (page, JSON,
// problem details, 404, redirect, static file, a refused request) when the app's own public URL is
// https://, with the configured max-age, and on none when it is http:// (localhost's other ports
// would become https-only). TLS ends in front of the apps, so every request here is plain http.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../apps/api/src/app.ts';
import { readApiConfig } from '../apps/api/src/config.ts';
import { HSTS_MAX_AGE_SECONDS as API_DEFAULT } from '../apps/api/src/defaults.ts';
import { buildBff } from '../apps/bff/src/app.ts';
import { readBffConfig } from '../apps/bff/src/config.ts';
import { HSTS_MAX_AGE_SECONDS as BFF_DEFAULT, SESSION_COOKIE } from '../apps/bff/src/defaults.ts';
import { HSTS_MAX_AGE_SECONDS as IDP_DEFAULT } from '../apps/idp/src/defaults.ts';
import { createSpaHandler } from '../apps/spa/server/app.ts';
import { readSpaConfig } from '../apps/spa/server/config.ts';
import { HSTS_MAX_AGE_SECONDS as SPA_DEFAULT } from '../apps/spa/server/defaults.ts';
import { INDEX_HTML } from '../apps/bff/test/support/system.ts';
import { startIdpInProcess } from './support/idp-in-process.ts';

const YEAR = 365 * 24 * 3600;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A fake SPA build: the page and one hashed bundle. */
function spaBuild(): string {
  const dir = tempDir('hsts-dist-');
  writeFileSync(join(dir, 'index.html'), INDEX_HTML);
  writeFileSync(join(dir, 'main-ABCDEFGH.js'), 'console.log("app");\n');
  return dir;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

type Answer = { what: string; status: number; hsts: string | undefined };

/** A request over HTTP with any headers (Host included); the answer's status and HSTS header. */
function over(base: string, what: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ what, status: res.statusCode!, hsts: res.headers['strict-transport-security'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function injected(app: FastifyInstance, what: string, url: string, opts: { method?: 'GET' | 'POST' | 'OPTIONS'; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await app.inject({ method: opts.method ?? 'GET', url, headers: opts.headers ?? {} });
  return { what, status: res.statusCode, hsts: res.headers['strict-transport-security'] as string | undefined };
}

/** Every answer carries `expected` (undefined: no header at all), and each kind came back as it should. */
function assertEvery(answers: Answer[], statuses: number[], expected: string | undefined): void {
  assert.deepEqual(answers.map((a) => `${a.what} ${a.status}`), answers.map((a, i) => `${a.what} ${statuses[i]}`));
  for (const a of answers) assert.equal(a.hsts, expected, `${a.what} (${a.status})`);
}

async function idpAnswers(scheme: 'https' | 'http', maxAge?: string): Promise<Answer[]> {
  // The issuer names the loopback port, so that the test knows where the IdP listens.
  const idp = await startIdpInProcess((port) => ({ IDP_ISSUER: `${scheme}://localhost:${port}`, ...(maxAge ? { IDP_HSTS_MAX_AGE: maxAge } : {}) }));
  cleanups.push(() => idp.close());
  const base = `http://127.0.0.1:${new URL(idp.issuer).port}`;
  const authorize = `/authorize?client_id=spa&response_type=code&redirect_uri=${encodeURIComponent('http://localhost:4200')}&scope=openid&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&state=s&nonce=n`;
  return Promise.all([
    over(base, 'discovery', '/.well-known/openid-configuration'),
    over(base, 'authorize redirect', authorize),
    over(base, 'authorize error page', '/authorize?client_id=nobody'),
    over(base, 'token error', '/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    over(base, 'static file', '/assets/idp.css'),
    over(base, 'unknown path', '/no-such-page'),
    over(base, 'malformed Host', '/healthz', { headers: { host: 'a b' } }),
  ]);
}
const IDP_STATUSES = [200, 303, 400, 400, 200, 404, 400];

async function apiAnswers(env: Record<string, string>): Promise<Answer[]> {
  const api = buildApi(readApiConfig({ API_DATA_DIR: tempDir('hsts-api-'), API_LOG_LEVEL: 'silent', ...env }), { logger: false });
  cleanups.push(() => api.app.close());
  await api.app.ready();
  const app = api.app;
  return Promise.all([
    injected(app, 'health', '/healthz'),
    injected(app, 'no token', '/api/UserOne'),
    injected(app, 'preflight', '/api/UserOne', { method: 'OPTIONS', headers: { origin: 'http://localhost:4200', 'access-control-request-method': 'GET' } }),
    injected(app, 'OpenAPI document', '/openapi.json'),
    injected(app, 'Swagger UI page', '/swagger/'),
    injected(app, 'Swagger UI redirect', '/swagger/static/index.html'),
    injected(app, 'Swagger UI file', '/swagger/static/swagger-ui.css'),
    injected(app, 'undecodable URL', '/api/notes/%E0%A4%A'),
  ]);
}
const API_STATUSES = [200, 401, 204, 200, 200, 302, 200, 400];

async function spaAnswers(env: Record<string, string>): Promise<Answer[]> {
  const base = await listen(createServer(createSpaHandler(readSpaConfig(env), spaBuild())));
  return Promise.all([
    over(base, 'page', '/'),
    over(base, 'return from the IdP', '/?code=c&state=s'),
    over(base, 'configuration', '/config.json'),
    over(base, 'static file', '/main-ABCDEFGH.js'),
    over(base, 'missing file', '/missing.js'),
    over(base, 'POST', '/', { method: 'POST' }),
    over(base, 'undecodable URL', '/%E0%A4%A'),
  ]);
}
const SPA_STATUSES = [200, 200, 200, 200, 404, 405, 400];

async function bffAnswers(env: Record<string, string>): Promise<Answer[]> {
  const api = await listen(createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('["user one data"]')));
  const dir = tempDir('hsts-bff-');
  // No IdP: only answers that need none, and a session made here.
  const bff = await buildBff(readBffConfig({ BFF_DATA_DIR: join(dir, 'data'), BFF_SPA_DIST: spaBuild(), BFF_API_URL: api, BFF_AUTHORITY: 'http://127.0.0.1:9', BFF_LOG_LEVEL: 'silent', ...env }), { logStream: { write() {} } });
  cleanups.push(() => bff.app.close());
  await bff.app.ready();
  const { id } = await bff.sessions.create({ accessToken: 'at', refreshToken: 'rt', idToken: 'it', expiresIn: 3600, scope: 'openid', claims: { sub: 'auth0|alice', sid: 's1' } });
  const session = { cookie: `${SESSION_COOKIE}=${id}`, 'x-csrf': '1' };
  const app = bff.app;
  return Promise.all([
    injected(app, 'page', '/notes'),
    injected(app, 'static file', '/main-ABCDEFGH.js'),
    injected(app, 'signed out', '/bff/user', { headers: { 'x-csrf': '1' } }),
    injected(app, 'user', '/bff/user', { headers: session }),
    injected(app, 'API answer forwarded', '/api/UserOne', { headers: session }),
    injected(app, 'no CSRF header', '/api/UserOne'),
    injected(app, 'unknown endpoint', '/bff/nothing', { headers: { 'x-csrf': '1' } }),
    injected(app, 'callback error page', '/bff/callback?code=c&state=s'),
    injected(app, 'health', '/healthz'),
    injected(app, 'undecodable URL', '/api/%zz', { headers: { 'x-csrf': '1' } }),
  ]);
}
const BFF_STATUSES = [200, 200, 401, 200, 200, 403, 404, 400, 200, 400];

describe('Strict-Transport-Security, every app, every kind of answer', () => {
  it('the defaults are one year', () => {
    assert.deepEqual([IDP_DEFAULT, API_DEFAULT, SPA_DEFAULT, BFF_DEFAULT], [YEAR, YEAR, YEAR, YEAR]);
  });

  it('IdP: on every answer when the issuer is https://, with IDP_HSTS_MAX_AGE; none on http://', async () => {
    assertEvery(await idpAnswers('https'), IDP_STATUSES, `max-age=${YEAR}`);
    assertEvery(await idpAnswers('https', '600'), IDP_STATUSES, 'max-age=600');
    assertEvery(await idpAnswers('http'), IDP_STATUSES, undefined);
  });

  it('API: on every answer when API_PUBLIC_URL is https://, with API_HSTS_MAX_AGE; none on http:// or unset', async () => {
    assertEvery(await apiAnswers({ API_PUBLIC_URL: 'https://api.example.test' }), API_STATUSES, `max-age=${YEAR}`);
    assertEvery(await apiAnswers({ API_PUBLIC_URL: 'https://api.example.test', API_HSTS_MAX_AGE: '0' }), API_STATUSES, 'max-age=0');
    assertEvery(await apiAnswers({ API_PUBLIC_URL: 'http://localhost:5001' }), API_STATUSES, undefined);
    assertEvery(await apiAnswers({}), API_STATUSES, undefined);
  });

  it('SPA server: on every answer when SPA_PUBLIC_URL is https://, with SPA_HSTS_MAX_AGE; none on http:// or unset', async () => {
    assertEvery(await spaAnswers({ SPA_PUBLIC_URL: 'https://app.example.test' }), SPA_STATUSES, `max-age=${YEAR}`);
    assertEvery(await spaAnswers({ SPA_PUBLIC_URL: 'https://app.example.test', SPA_HSTS_MAX_AGE: '86400' }), SPA_STATUSES, 'max-age=86400');
    assertEvery(await spaAnswers({}), SPA_STATUSES, undefined);
  });

  it('BFF: on every answer, the SPA\'s files and the forwarded API answers included, when BFF_PUBLIC_URL is https://; none on http://', async () => {
    assertEvery(await bffAnswers({ BFF_PUBLIC_URL: 'https://app.example.test' }), BFF_STATUSES, `max-age=${YEAR}`);
    assertEvery(await bffAnswers({ BFF_PUBLIC_URL: 'https://app.example.test', BFF_HSTS_MAX_AGE: '3600' }), BFF_STATUSES, 'max-age=3600');
    assertEvery(await bffAnswers({ BFF_PUBLIC_URL: 'http://localhost:4300' }), BFF_STATUSES, undefined);
  });
});

