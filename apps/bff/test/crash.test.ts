// The BFF as a process (src/server.ts), killed with SIGKILL in the middle of a session: started
// again on the same data directory, the browser's session cookie still works, for the API too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { followIdpRedirects, submitLogin, userAgent } from '../../../tests/support/oidc-rp.ts';
import { SESSION_COOKIE } from '../src/defaults.ts';
import { startBffProcess, type BffProcess } from './support/bff-process.ts';
import { PUBLIC_URL, startSystem, type System } from './support/system.ts';

describe('a BFF process killed with SIGKILL', () => {
  let system: System;
  let bff: BffProcess;
  let base: string;

  before(async () => {
    system = await startSystem();
    bff = await startBffProcess({ BFF_PUBLIC_URL: PUBLIC_URL, BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: system.api.url, BFF_LOG_LEVEL: 'warn' });
    base = bff.base;
  });
  after(async () => {
    await bff?.dispose();
    await system?.dispose();
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

    await bff.kill('SIGKILL');
    await bff.start();

    const user = await ua.request(`${base}/bff/user`, { headers: { 'x-csrf': '1' } });
    assert.equal(user.status, 200);
    assert.equal(((await user.json()) as { sub: string }).sub, 'auth0|alice');
    const api = await call();
    assert.equal(api.status, 200);
    assert.deepEqual(await api.json(), ['user one data']);
  });
});
