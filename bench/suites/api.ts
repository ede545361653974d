// API rows (a)–(g): the same GET /api/UserOne on a bare Fastify server (alone, and with one RS256
// check: (d)'s bound), on our API in four configurations, and on two peers, all with tokens the
// real IdP issued and checked against its JWKS.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, startServerOnFreshPort, type ServerProcess } from '../lib/children.ts';
import { loginDemoUser, mintAccessTokens, startIdp, type Idp } from '../lib/idp.ts';
import { runHttpLoad } from '../lib/load.ts';
import { pinServer, type PinningPlan } from '../lib/pinning.ts';
import { firstLine, unavailableRow, type Row, type RowProcess } from '../lib/rows.ts';
import { USER_ONE_BODY, USER_ONE_PATH } from '../servers/route.ts';
import { API_NODE_FLAGS } from '../../apps/api/src/node-flags.ts';

const root = join(import.meta.dirname, '..', '..');
const API_ENTRY = join(root, 'apps', 'api', 'src', 'server.ts');
const SERVERS = join(import.meta.dirname, '..', 'servers');

export const API_ROWS = {
  a: '(a) bare Fastify, same route, no auth',
  control: '(a) again: bare Fastify, other processes of the same code (control: should read 1.00)',
  bound: "(a′) bare Fastify + one RS256 check and nothing else: (d)'s bound",
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
  /** Processes of the same server per row; round r measures each row's process r mod n. */
  processes: number;
  /** Each server is moved onto the servers' core once started, when the plan pins. */
  pinning: PinningPlan;
  /** RS256 IdP issuing JWT access tokens. */
  jwtIdp: Idp;
  /** Rows not started at all (`--only` leaves them out): reported n/a. */
  skip?: (id: ApiRowId) => boolean;
}

export interface ApiSuite {
  rows: Row[];
  /** Row (b)'s first process: the API behind the BFF rows and the browser rows. */
  ourApi?: ServerProcess;
  opaqueIdp?: Idp;
  stop(): Promise<void>;
}

const bearer = (token: string) => `Bearer ${token}`;

/**
 * Every Node server of these rows runs with the V8 options our API is started with, the baseline
 * and the peers included: without them any Node process that once went quiet after a full
 * collection builds every `process.nextTick` object in V8's runtime from then on (10–15 % more
 * CPU per request; apps/api/src/node-flags.ts), and which rows fell into it decided a run's ratios.
 */
const NODE_FLAGS = API_NODE_FLAGS;

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

async function startBenchServer(name: string, file: string, issuer: string, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerOnFreshPort((port) => ({ name, entry: join(SERVERS, file), port, healthPath: '/healthz', nodeFlags: NODE_FLAGS, env: { BENCH_PORT: String(port), BENCH_ISSUER: issuer, ...extraEnv } }));
}

export async function startOurApi(name: string, issuer: string, env: Record<string, string>, dataDirs: string[]): Promise<ServerProcess> {
  const dataDir = makeTempDir('bench-api-');
  dataDirs.push(dataDir);
  // Readiness, not liveness: ready means the issuer's metadata and keys are loaded.
  return startServerOnFreshPort((port) => ({
    name,
    entry: API_ENTRY,
    port,
    healthPath: '/readyz',
    nodeFlags: NODE_FLAGS,
    env: { API_PORT: String(port), API_HOST: '127.0.0.1', API_DATA_DIR: dataDir, AUTH_AUTHORITY: issuer, ...env },
  }));
}

/** How our API is configured for rows (b), (c) and (d): the environment on top of the defaults. */
const OUR_API_ROWS = {
  b: { name: 'our API', env: { AUTH_TOKEN_FORMAT: 'jwt' } },
  c: { name: 'our API (1,000 tokens)', env: { AUTH_TOKEN_FORMAT: 'jwt' } },
  d: { name: 'our API (cache off)', env: { AUTH_TOKEN_FORMAT: 'jwt', AUTH_TOKEN_CACHE_SIZE: '0' } },
} as const;
/** The peers and the baseline, each a file in bench/servers. */
const BENCH_SERVERS = {
  a: { name: 'bare Fastify', file: 'bare-fastify.ts' },
  control: { name: 'bare Fastify (control)', file: 'bare-fastify.ts' },
  f: { name: 'Express + express-oauth2-jwt-bearer', file: 'express-oauth2-jwt-bearer.ts' },
  g: { name: 'Fastify + @fastify/jwt', file: 'fastify-jwt.ts' },
  bound: { name: 'bare Fastify + one RS256 check', file: 'bare-fastify-signature.ts' },
} as const;

/** The Authorization headers a row sends: (c) uses every token in turn, the others the first one. */
export function rowAuthorizations(id: ApiRowId, tokens: readonly string[]): string[] {
  return id === 'c' ? tokens.map(bearer) : [bearer(tokens[0]!)];
}

/**
 * Sends every distinct token of row (c) once, so that its rounds measure what the row is about, a
 * cache hit on a token among many. Left to the load, the first pass over 1,000 tokens is 1,000
 * signature checks spread over the first round: at 2,000 requests/s on 10 connections that is the
 * whole of a short round. Each must be accepted, which also proves every token valid.
 */
export async function primeRow(server: { url: string }, id: ApiRowId, tokens: readonly string[]): Promise<void> {
  if (id !== 'c') return;
  const url = server.url + USER_ONE_PATH;
  for (const token of tokens) {
    const res = await fetch(url, { headers: { authorization: bearer(token) } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`answered ${res.status} to one of the ${tokens.length} tokens`);
  }
}

export interface StartedApiRow {
  server: ServerProcess;
  url: string;
  stop(): Promise<void>;
}

/**
 * One row's server started exactly as the bench starts it, with `extraEnv` on top (e.g.
 * NODE_OPTIONS=--cpu-prof for bench/profile-api.ts). Rows a, b, c, d, f and g.
 */
export async function startApiRow(id: ApiRowId, issuer: string, extraEnv: Record<string, string> = {}): Promise<StartedApiRow> {
  const dataDirs: string[] = [];
  let server: ServerProcess;
  if (id === 'a' || id === 'control' || id === 'f' || id === 'g' || id === 'bound') {
    server = await startBenchServer(BENCH_SERVERS[id].name, BENCH_SERVERS[id].file, issuer, extraEnv);
  } else if (id === 'b' || id === 'c' || id === 'd') {
    server = await startOurApi(OUR_API_ROWS[id].name, issuer, { ...OUR_API_ROWS[id].env, ...extraEnv }, dataDirs);
  } else {
    throw new Error(`row (${id}) is not started by startApiRow`);
  }
  return {
    server,
    url: server.url + USER_ONE_PATH,
    async stop() {
      await server.stop();
      for (const dir of dataDirs) removeTempDir(dir);
    },
  };
}

export async function setupApiSuite(opts: ApiSuiteOptions): Promise<ApiSuite> {
  const { jwtIdp, connections, pinning } = opts;
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

  /**
   * Starts the row's processes one after another (the rows start side by side), checks and primes
   * every one of them before any is timed; one that fails makes the row n/a instead of ending the bench.
   */
  const row = async (id: ApiRowId, start: () => Promise<ServerProcess>, token: string | undefined, authorizations: string[]): Promise<Row> => {
    if (opts.skip?.(id)) return unavailableRow(id, 'api', API_ROWS[id], 'not selected (--only)');
    const processes: RowProcess[] = [];
    for (let i = 0; i < opts.processes; i++) {
      let server: ServerProcess;
      try {
        server = await start();
      } catch (err) {
        return unavailableRow(id, 'api', API_ROWS[id], `server did not start: ${firstLine(err)}`);
      }
      servers.push(server);
      try {
        await checkServer(server, token);
        await primeRow(server, id, tokens);
        pinServer(pinning, server.pid);
      } catch (err) {
        return unavailableRow(id, 'api', API_ROWS[id], `failed its correctness check: ${firstLine(err)}`);
      }
      const url = server.url + USER_ONE_PATH;
      processes.push({ server, measure: (seconds) => runHttpLoad({ url, connections, seconds, authorizations }) });
    }
    const [first] = processes;
    return { id, group: 'api', label: API_ROWS[id], server: first!.server!, measure: first!.measure, processes, pinned: pinning.pinned };
  };
  const missingApi = (id: ApiRowId) => unavailableRow(id, 'api', API_ROWS[id], 'apps/api/src/server.ts is not there yet');

  const ourApiRows = async (): Promise<Row[]> => {
    if (!apiPresent) return (['b', 'c', 'd', 'e'] as const).map(missingApi);
    const iss = jwtIdp.issuer;
    const reference = async (): Promise<Row> => {
      if (opts.skip?.('e')) return unavailableRow('e', 'api', API_ROWS.e, 'not selected (--only)');
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
      row('b', () => startOurApi(OUR_API_ROWS.b.name, iss, OUR_API_ROWS.b.env, dataDirs), one, rowAuthorizations('b', tokens)),
      row('c', () => startOurApi(OUR_API_ROWS.c.name, iss, OUR_API_ROWS.c.env, dataDirs), one, rowAuthorizations('c', tokens)),
      row('d', () => startOurApi(OUR_API_ROWS.d.name, iss, OUR_API_ROWS.d.env, dataDirs), one, rowAuthorizations('d', tokens)),
      reference(),
    ]);
  };

  try {
    const [a, control, bound, f, g, ours] = await Promise.all([
      // The same request bytes as (b), token included and ignored: (a) differs from (b) by the auth work only.
      row('a', () => startBenchServer(BENCH_SERVERS.a.name, BENCH_SERVERS.a.file, jwtIdp.issuer), undefined, rowAuthorizations('a', tokens)),
      // (a) again in processes of its own: how far two sets of processes of the same code differ in this run.
      row('control', () => startBenchServer(BENCH_SERVERS.control.name, BENCH_SERVERS.control.file, jwtIdp.issuer), undefined, rowAuthorizations('control', tokens)),
      row('bound', () => startBenchServer(BENCH_SERVERS.bound.name, BENCH_SERVERS.bound.file, jwtIdp.issuer), one, rowAuthorizations('bound', tokens)),
      row('f', () => startBenchServer(BENCH_SERVERS.f.name, BENCH_SERVERS.f.file, jwtIdp.issuer), one, rowAuthorizations('f', tokens)),
      row('g', () => startBenchServer(BENCH_SERVERS.g.name, BENCH_SERVERS.g.file, jwtIdp.issuer), one, rowAuthorizations('g', tokens)),
      ourApiRows(),
    ]);
    const rows = [a, control, bound, ...ours, f, g];
    const ourApi = rows.find((r) => r.id === 'b')?.server;
    return { rows, ...(ourApi ? { ourApi } : {}), ...(opaqueIdp ? { opaqueIdp } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
