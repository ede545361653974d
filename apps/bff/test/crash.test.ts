// The BFF as a process (src/server.ts), killed with SIGKILL in the middle of a session: started
// again on the same data directory, the browser's session cookie still works, for the API too.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitForHealthy } from '../../../tests/support/idp-process.ts';
import { followIdpRedirects, submitLogin, userAgent } from '../../../tests/support/oidc-rp.ts';
import { freePort } from '../../../tests/support/ports.ts';
import { SESSION_COOKIE } from '../src/defaults.ts';
import { INDEX_HTML, PUBLIC_URL, startSystem, type System } from './support/system.ts';

const SERVER = join(import.meta.dirname, '..', 'src', 'server.ts');

describe('a BFF process killed with SIGKILL', () => {
  let system: System;
  let dir: string;
  let child: ChildProcess | undefined;
  let base: string;
  let env: Record<string, string>;

  const launch = async () => {
    child = spawn(process.execPath, [SERVER], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForHealthy(`${base}/readyz`, child);
  };

  before(async () => {
    system = await startSystem();
    dir = mkdtempSync(join(tmpdir(), 'bff-crash-'));
    const dist = join(dir, 'spa', 'dist', 'spa', 'browser');
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'index.html'), INDEX_HTML);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      BFF_PORT: String(port), BFF_PUBLIC_URL: PUBLIC_URL, BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url,
      BFF_DATA_DIR: join(dir, 'data'), BFF_SPA_DIST: dist, BFF_LOG_LEVEL: 'warn',
    };
    await launch();
  });
  after(async () => {
    child?.kill('SIGKILL');
    await system?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the session: /bff/user and the API answer after a restart', async () => {
    const ua = userAgent();
    const start = await ua.request(`${base}/bff/login?returnTo=/notes`);
    assert.equal(start.status, 302);
    const page = await followIdpRedirects(ua, system.idp.issuer, start.headers.get('location')!);
    const done = await submitLogin(ua, system.idp.issuer, page, 'alice', 'demo-alice');
    const callback = new URL(done.headers.get('location')!);
    assert.equal(callback.origin, PUBLIC_URL);
    const landed = await ua.request(`${base}${callback.pathname}${callback.search}`);
    assert.equal(landed.status, 302);
    assert.equal(landed.headers.get('location'), '/notes');
    assert.ok(ua.jar.cookies.get(SESSION_COOKIE));
    const call = () => ua.request(`${base}/api/UserOne`, { headers: { 'x-csrf': '1' } });
    assert.equal((await call()).status, 200);

    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child!.kill('SIGKILL');
    await exited;
    await launch();

    const user = await ua.request(`${base}/bff/user`, { headers: { 'x-csrf': '1' } });
    assert.equal(user.status, 200);
    assert.equal(((await user.json()) as { sub: string }).sub, 'auth0|alice');
    const api = await call();
    assert.equal(api.status, 200);
    assert.deepEqual(await api.json(), ['user one data']);
  });
});
