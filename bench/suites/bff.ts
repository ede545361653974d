// Row (h): GET /api/UserOne through the Backend-for-Frontend with a session cookie, in front of
// the same API process as row (b); row (h′), its limit: the BFF's transport alone, no session. The BFF is its own process (apps/bff/src/server.ts) serving a
// stand-in SPA page (nothing is built), signed into once through the real IdP's login form; its
// CPU time is what the per-CPU-second column reports, so CPU per request is the BFF's own.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_USER, loginDemoUser, type Idp } from '../lib/idp.ts';
import { makeTempDir, removeTempDir, startServerOnFreshPort, type ServerProcess } from '../lib/children.ts';
import { runHttpLoad } from '../lib/load.ts';
import { firstLine, unavailableRow, type Row } from '../lib/rows.ts';
import { USER_ONE_BODY, USER_ONE_PATH } from '../servers/route.ts';
import { freshSpaDist } from './spa.ts';
import { followIdpRedirects, submitLogin, userAgent, type UserAgent } from '../../tests/support/oidc-rp.ts';

const root = join(import.meta.dirname, '..', '..');
const BFF_ENTRY = join(root, 'apps', 'bff', 'src', 'server.ts');
const BARE_PROXY_ENTRY = join(import.meta.dirname, '..', 'servers', 'bare-proxy.ts');
export const BFF_SESSION_COOKIE = '__Host-bff-session';

export const BFF_ROWS = {
  proxy: '(h′) bare proxy: Fastify + the BFF\'s transport, fixed token → our API: (h)\'s limit',
  h: '(h) BFF → our API, session cookie',
} as const;

export interface BffRowOptions {
  idp: Idp;
  /**
   * Registered at the IdP as the bff client's redirect origins: the BFF listens on the first one no
   * other process took first (a reserved port is free only until someone binds it).
   */
  bffPorts: readonly number[];
  /** Row (b)'s API process: the BFF's upstream. */
  ourApi: ServerProcess | undefined;
  connections: number;
}

/** Signs the demo user in through the BFF and answers the session cookie's value. */
export async function bffLogin(bffUrl: string, issuer: string, ua: UserAgent = userAgent()): Promise<string> {
  const start = await ua.request(`${bffUrl}/bff/login?returnTo=/`);
  if (start.status !== 302) throw new Error(`/bff/login answered ${start.status}`);
  const page = await followIdpRedirects(ua, issuer, start.headers.get('location')!);
  const back = await submitLogin(ua, issuer, page, DEMO_USER.username, DEMO_USER.password);
  const callback = back.headers.get('location');
  if (!callback?.startsWith(`${bffUrl}/bff/callback`)) throw new Error(`the IdP sent the browser to ${callback ?? 'nowhere'}, not the BFF`);
  const done = await ua.request(callback);
  const session = ua.jar.cookies.get(BFF_SESSION_COOKIE);
  if (done.status !== 302 || !session) throw new Error(`the callback answered ${done.status} without a session cookie`);
  return session;
}

/** The BFF must proxy with the session, refuse without it, and refuse without the CSRF header, before it is timed. */
async function checkBff(url: string, cookie: string): Promise<void> {
  const ok = await fetch(url, { headers: { cookie, 'x-csrf': '1' } });
  const body = await ok.text();
  if (ok.status !== 200 || body !== JSON.stringify(USER_ONE_BODY)) throw new Error(`answered ${ok.status} ${body.slice(0, 120)} with a session`);
  const anonymous = await fetch(url, { headers: { 'x-csrf': '1' } });
  if (anonymous.status !== 401) throw new Error(`answered ${anonymous.status} without a session`);
  const forged = await fetch(url, { headers: { cookie } });
  if (forged.status !== 403) throw new Error(`answered ${forged.status} without the CSRF header`);
}

export interface BffRow {
  row: Row;
  server?: ServerProcess;
  /** The BFF's URL when it serves the real SPA build (the browser row can then sign in through it). */
  appUrl?: string;
  stop(): Promise<void>;
}

/** Row (h′): bench/servers/bare-proxy.ts in front of (b)'s API, with one access token of the demo user. */
export async function setupBareProxyRow(opts: BffRowOptions): Promise<{ row: Row; stop(): Promise<void> }> {
  const none = async () => {};
  if (!opts.ourApi) return { row: unavailableRow('proxy', 'api', BFF_ROWS.proxy, 'row (b)\'s API did not run, so the proxy has no upstream'), stop: none };
  const upstream = `http://127.0.0.1:${opts.ourApi.port}`;
  let server: ServerProcess;
  try {
    const token = (await loginDemoUser(opts.idp)).accessToken;
    server = await startServerOnFreshPort((port) => ({
      name: 'bare proxy', entry: BARE_PROXY_ENTRY, port, healthPath: '/healthz',
      env: { BENCH_PORT: String(port), BENCH_UPSTREAM: upstream, BENCH_TOKEN: token },
    }));
  } catch (err) {
    return { row: unavailableRow('proxy', 'api', BFF_ROWS.proxy, `did not start: ${firstLine(err)}`), stop: none };
  }
  const url = `${server.url}${USER_ONE_PATH}`;
  const stop = () => server.stop();
  const ok = await fetch(url).catch(() => undefined);
  const body = await ok?.text();
  if (ok?.status !== 200 || body !== JSON.stringify(USER_ONE_BODY)) return { row: unavailableRow('proxy', 'api', BFF_ROWS.proxy, `failed its correctness check: ${ok?.status ?? 'no answer'}`), stop };
  // The same request bytes as (h): a session cookie of the same size and the CSRF header, ignored.
  const headers = { cookie: `${BFF_SESSION_COOKIE}=${'x'.repeat(43)}`, 'x-csrf': '1' };
  return { row: { id: 'proxy', group: 'api', label: BFF_ROWS.proxy, server, measure: (seconds) => runHttpLoad({ url, connections: opts.connections, seconds, headers }) }, stop };
}

export async function setupBffRow(opts: BffRowOptions): Promise<BffRow> {
  const { idp, bffPorts, ourApi } = opts;
  const none = async () => {};
  if (!existsSync(BFF_ENTRY)) return { row: unavailableRow('h', 'api', BFF_ROWS.h, 'apps/bff/src/server.ts is not there yet'), stop: none };
  if (!ourApi) return { row: unavailableRow('h', 'api', BFF_ROWS.h, 'row (b)\'s API did not run, so the BFF has no upstream'), stop: none };
  const dir = makeTempDir('bench-bff-');
  // The SPA's own build when it is current (the browser row needs it), else a stand-in page at
  // <app>/dist/spa/browser: an app folder without sources is never rebuilt.
  const spaDist = await freshSpaDist();
  const dist = spaDist ?? join(dir, 'app', 'dist', 'spa', 'browser');
  if (!spaDist) {
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>bench</title>');
  }
  let server: ServerProcess;
  try {
    // On the first of the ports registered at the IdP that no other process took first.
    server = await startServerOnFreshPort((port) => ({
      name: 'BFF',
      entry: BFF_ENTRY,
      port,
      healthPath: '/readyz',
      env: {
        BFF_PORT: String(port), BFF_HOST: '127.0.0.1', BFF_PUBLIC_URL: `http://localhost:${port}`, BFF_AUTHORITY: idp.issuer,
        BFF_API_URL: `http://localhost:${ourApi.port}`, BFF_DATA_DIR: join(dir, 'data'), BFF_SPA_DIST: dist, BFF_LOG_LEVEL: 'warn',
      },
    }), bffPorts);
  } catch (err) {
    removeTempDir(dir);
    return { row: unavailableRow('h', 'api', BFF_ROWS.h, `the BFF did not start: ${firstLine(err)}`), stop: none };
  }
  const stop = async () => {
    await server.stop();
    removeTempDir(dir);
  };
  const bffUrl = `http://localhost:${server.port}`;
  const url = `${bffUrl}${USER_ONE_PATH}`;
  try {
    const cookie = `${BFF_SESSION_COOKIE}=${await bffLogin(bffUrl, idp.issuer)}`;
    await checkBff(url, cookie);
    const headers = { cookie, 'x-csrf': '1' };
    const row: Row = { id: 'h', group: 'api', label: BFF_ROWS.h, server, measure: (seconds) => runHttpLoad({ url, connections: opts.connections, seconds, headers }) };
    return { row, server, stop, ...(spaDist ? { appUrl: `${bffUrl}/` } : {}) };
  } catch (err) {
    return { row: unavailableRow('h', 'api', BFF_ROWS.h, `failed its correctness check: ${firstLine(err)}`), server, stop };
  }
}
