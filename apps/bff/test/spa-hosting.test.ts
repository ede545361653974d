// The BFF as the SPA's server: the same build with the SPA server's headers, a CSP whose
// connect-src is 'self' only, the runtime configuration of BFF mode, deep links, its own 404s
// under /bff, and health and readiness (not ready while the IdP cannot be discovered).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../scripts/ports.ts';
import { PUBLIC_URL, startBff, type BffUnderTest } from './support/system.ts';

describe('the BFF serving the SPA, with its IdP down', () => {
  let bff: BffUnderTest;
  before(async () => {
    const closedPort = await freePort();
    bff = await startBff({ BFF_AUTHORITY: `http://localhost:${closedPort}` }, undefined, mkdtempSync(join(tmpdir(), 'bff-test-')), false);
  });
  after(async () => bff?.dispose());

  it('serves index.html with a CSP allowing connections to itself only, and the BFF-mode configuration', async () => {
    for (const path of ['/', '/notes', '/session?x=1']) {
      const res = await bff.app.inject({ method: 'GET', url: path });
      assert.equal(res.statusCode, 200, path);
      const csp = res.headers['content-security-policy'] as string;
      assert.match(csp, /connect-src 'self';/);
      assert.match(csp, /script-src 'self';/);
      assert.match(csp, /(^|; )require-trusted-types-for 'script'(;|$)/);
      assert.match(csp, /(^|; )trusted-types angular(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['cache-control'], 'no-store');
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      assert.ok(nonce && res.body.includes(`ngCspNonce="${nonce}"`));
      assert.ok(res.body.includes('&#34;mode&#34;:&#34;bff&#34;'), 'the configuration is written into index.html');
    }
    const config = await bff.app.inject({ method: 'GET', url: '/config.json' });
    assert.deepEqual(config.json(), { mode: 'bff', apiUrl: PUBLIC_URL });
    const bundle = await bff.app.inject({ method: 'GET', url: '/main-ABCDEFGH.js' });
    assert.match(bundle.headers['cache-control'] as string, /immutable/);
  });

  it('answers unknown /bff paths with problem details, not the app', async () => {
    const res = await bff.app.inject({ method: 'GET', url: '/bff/unknown', headers: { 'x-csrf': '1' } });
    assert.equal(res.statusCode, 404);
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
  });

  it('is live but not ready while the IdP cannot be discovered, and says so at login', async () => {
    assert.equal((await bff.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const ready = await bff.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.match(ready.body, /identity provider/);
    const login = await bff.app.inject({ method: 'GET', url: '/bff/login' });
    assert.equal(login.statusCode, 503);
    assert.match(login.headers['content-type'] as string, /^text\/html/);
  });
});
