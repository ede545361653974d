// API rows (a)–(g): the same GET /api/UserOne on a bare Fastify server, on our API in four
// configurations, and on two peers, all with tokens the real IdP issued and checked against its JWKS.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, makeTempDir, removeTempDir, startServer, type ServerProcess } from '../lib/children.ts';
import { loginDemoUser, mintAccessTokens, startIdp, type Idp } from '../lib/idp.ts';
import { runHttpLoad } from '../lib/load.ts';
import { firstLine, unavailableRow, type Row } from '../lib/rows.ts';
import { USER_ONE_BODY, USER_ONE_PATH } from '../servers/route.ts';

const root = join(import.meta.dirname, '..', '..');
const API_ENTRY = join(root, 'apps', 'api', 'src', 'server.ts');
const SERVERS = join(import.meta.dirname, '..', 'servers');

export const API_ROWS = {
  a: '(a) bare Fastify, same route, no auth',
  b: '(b) our API, one JWT reused',
  c: '(c) our API, 1,000 distinct JWTs in rotation',
  d: '(d) our API, verified-token cache off',
  e: '(e) our API, reference tokens (introspection, cached)',
  f: '(f) Express 5 + express-oauth2-jwt-bearer',
  g: '(g) Fastify + @fastify/jwt (get-jwks)',
} as const;
export type ApiRowId = keyof typeof API_ROWS;

export interface ApiSuiteOptions {
  connections: number;
  distinctTokens: number;
  /** RS256 IdP issuing JWT access tokens (also the IdP of the browser row). */
  jwtIdp: Idp;
  /** Browser origin of the bench's SPA server, allowed by CORS on the browser row's API (b). */
  spaOrigin: string;
}

export interface ApiSuite {
  rows: Row[];
  /** Our API with one reused JWT: the browser row's API. */
  ourApi?: ServerProcess;
  opaqueIdp?: Idp;
  stop(): Promise<void>;
}

const bearer = (token: string) => `Bearer ${token}`;

/** Proves a server does what the row claims before it is timed: the valid token passes, others do not. */
export async function checkServer(server: ServerProcess, token: string | undefined): Promise<void> {
  const url = server.url + USER_ONE_PATH;
  const ok = await fetch(url, token ? { headers: { authorization: bearer(token) } } : {});
  const body = await ok.text();
  if (ok.status !== 200 || body !== JSON.stringify(USER_ONE_BODY)) throw new Error(`${server.name} answered ${ok.status} ${body.slice(0, 120)} to a valid request`);
  if (!token) return;
  const anonymous = await fetch(url);
  if (anonymous.status !== 401) throw new Error(`${server.name} answered ${anonymous.status} without a token`);
  // The same token with one signature character changed: a forgery every verifier must refuse.
  const i = token.length - 10;
  const forged = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
  const refused = await fetch(url, { headers: { authorization: bearer(forged) } });
  if (refused.status !== 401) throw new Error(`${server.name} answered ${refused.status} to a forged token`);
}

async function startBenchServer(name: string, file: string, issuer: string): Promise<ServerProcess> {
  const port = await freePort();
  return startServer({ name, entry: join(SERVERS, file), port, healthPath: '/healthz', env: { BENCH_PORT: String(port), BENCH_ISSUER: issuer } });
}

async function startOurApi(name: string, issuer: string, env: Record<string, string>, dataDirs: string[]): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = makeTempDir('bench-api-');
  dataDirs.push(dataDir);
  // Readiness, not liveness: ready means the issuer's metadata and keys are loaded.
  return startServer({
    name,
    entry: API_ENTRY,
    port,
    healthPath: '/readyz',
    env: { API_PORT: String(port), API_HOST: '127.0.0.1', API_DATA_DIR: dataDir, AUTH_AUTHORITY: issuer, ...env },
  });
}

export async function setupApiSuite(opts: ApiSuiteOptions): Promise<ApiSuite> {
  const { jwtIdp, connections } = opts;
  const servers: ServerProcess[] = [];
  const dataDirs: string[] = [];
  let opaqueIdp: Idp | undefined;
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await opaqueIdp?.stop();
    for (const dir of dataDirs) removeTempDir(dir);
  };

  const tokens = await mintAccessTokens(jwtIdp, opts.distinctTokens);
  const one = tokens[0]!;
  const apiPresent = existsSync(API_ENTRY);

  /** Starts and checks one row's server; a failure makes that row n/a instead of ending the bench. */
  const row = async (id: ApiRowId, start: () => Promise<ServerProcess>, token: string | undefined, authorizations: string[]): Promise<Row> => {
    let server: ServerProcess;
    try {
      server = await start();
    } catch (err) {
      return unavailableRow(id, 'api', API_ROWS[id], `server did not start: ${firstLine(err)}`);
    }
    servers.push(server);
    try {
      await checkServer(server, token);
    } catch (err) {
      return unavailableRow(id, 'api', API_ROWS[id], `failed its correctness check: ${firstLine(err)}`);
    }
    const url = server.url + USER_ONE_PATH;
    return { id, group: 'api', label: API_ROWS[id], server, measure: (seconds) => runHttpLoad({ url, connections, seconds, authorizations }) };
  };
  const missingApi = (id: ApiRowId) => unavailableRow(id, 'api', API_ROWS[id], 'apps/api/src/server.ts is not there yet');

  const ourApiRows = async (): Promise<Row[]> => {
    if (!apiPresent) return (['b', 'c', 'd', 'e'] as const).map(missingApi);
    const iss = jwtIdp.issuer;
    const reference = async (): Promise<Row> => {
      let opaque: string;
      try {
        opaqueIdp = await startIdp('IdP (opaque tokens)', { IDP_ACCESS_TOKEN_FORMAT: 'opaque', IDP_ACCESS_TOKEN_TTL: '3600' });
        opaque = (await loginDemoUser(opaqueIdp)).accessToken;
      } catch (err) {
        return unavailableRow('e', 'api', API_ROWS.e, `no reference token from an IdP issuing opaque tokens: ${firstLine(err)}`);
      }
      const issuer = opaqueIdp.issuer;
      return row('e', () => startOurApi('our API (reference tokens)', issuer, { AUTH_TOKEN_FORMAT: 'reference' }, dataDirs), opaque, [bearer(opaque)]);
    };
    return Promise.all([
      row('b', () => startOurApi('our API', iss, { AUTH_TOKEN_FORMAT: 'jwt', API_CORS_ORIGINS: opts.spaOrigin }, dataDirs), one, [bearer(one)]),
      row('c', () => startOurApi('our API (1,000 tokens)', iss, { AUTH_TOKEN_FORMAT: 'jwt' }, dataDirs), one, tokens.map(bearer)),
      row('d', () => startOurApi('our API (cache off)', iss, { AUTH_TOKEN_FORMAT: 'jwt', AUTH_TOKEN_CACHE_SIZE: '0' }, dataDirs), one, [bearer(one)]),
      reference(),
    ]);
  };

  try {
    const [a, f, g, ours] = await Promise.all([
      // The same request bytes as (b), token included and ignored: (a) differs from (b) by the auth work only.
      row('a', () => startBenchServer('bare Fastify', 'bare-fastify.ts', jwtIdp.issuer), undefined, [bearer(one)]),
      row('f', () => startBenchServer('Express + express-oauth2-jwt-bearer', 'express-oauth2-jwt-bearer.ts', jwtIdp.issuer), one, [bearer(one)]),
      row('g', () => startBenchServer('Fastify + @fastify/jwt', 'fastify-jwt.ts', jwtIdp.issuer), one, [bearer(one)]),
      ourApiRows(),
    ]);
    const rows = [a, ...ours, f, g];
    const ourApi = rows.find((r) => r.id === 'b')?.server;
    return { rows, ...(ourApi ? { ourApi } : {}), ...(opaqueIdp ? { opaqueIdp } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
