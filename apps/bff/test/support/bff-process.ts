// The BFF as a child process (src/server.ts), for tests that kill an instance with SIGKILL or run
// several processes on one data directory, and a browser signing in to it over HTTP. The SPA build
// it serves is a stand-in page, so nothing is built.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onFreshPort } from '../../../../scripts/ports.ts';
import { restartableProcess } from '../../../../tests/support/idp-process.ts';
import { followIdpRedirects, submitLogin, userAgent, type UserAgent } from '../../../../tests/support/oidc-rp.ts';
import { SESSION_COOKIE } from '../../src/defaults.ts';
import { INDEX_HTML, PUBLIC_URL } from './system.ts';

const SERVER = join(import.meta.dirname, '..', '..', 'src', 'server.ts');

export interface BffProcess {
  base: string;
  logs: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startBffProcess(env: Record<string, string>): Promise<BffProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bff-process-'));
  // <app>/dist/spa/browser, like the real build; the stand-in app has no sources, so it is never stale.
  const distDir = join(dir, 'app', 'dist', 'spa', 'browser');
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'index.html'), INDEX_HTML);
  const { port, bff } = await onFreshPort(async (port) => {
    const fullEnv = { BFF_PORT: String(port), BFF_DATA_DIR: join(dir, 'data'), BFF_SPA_DIST: distDir, BFF_LOG_LEVEL: 'info', ...env };
    const bff = restartableProcess(SERVER, fullEnv, `http://localhost:${port}/readyz`);
    await bff.launch();
    return { port, bff };
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const start = () => bff.launch();
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => bff.stop(signal);
  return {
    base: `http://localhost:${port}`, logs: bff.logs, kill, start,
    async dispose() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Signs alice in through the BFF at `base` over HTTP; the IdP sends the browser to the public
 * URL, which the test routes to `base` (as a load balancer would).
 */
export async function signInOverHttp(base: string, issuer: string): Promise<UserAgent> {
  const ua = userAgent();
  const start = await ua.request(`${base}/bff/login?returnTo=/`);
  assert.equal(start.status, 302);
  const page = await followIdpRedirects(ua, issuer, start.headers.get('location')!);
  const back = await submitLogin(ua, issuer, page, 'alice', 'demo-alice');
  const callback = new URL(back.headers.get('location')!);
  assert.equal(callback.origin, PUBLIC_URL);
  const done = await ua.request(`${base}${callback.pathname}${callback.search}`);
  assert.equal(done.status, 302);
  assert.ok(ua.jar.cookies.has(SESSION_COOKIE));
  return ua;
}

/** A call of the SPA through the BFF at `base` (with its CSRF header): status and body. */
export async function callBff(ua: UserAgent, base: string, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const res = await ua.request(`${base}${path}`, { method, headers: { 'x-csrf': '1' } });
  return { status: res.status, body: await res.text() };
}
