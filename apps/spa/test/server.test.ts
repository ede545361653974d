// The SPA server: security headers and CSP on every response, runtime config from the
// environment, deep links, and a build output that needs no inline script.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '@suite/config';
import { createSpaHandler, NONCE_PLACEHOLDER } from '../server/app.ts';
import { distDir, ensureBuilt } from '../server/build.ts';
import { readSpaConfig } from '../server/config.ts';

const env = {
  SPA_PORT: '4200',
  SPA_AUTHORITY: 'https://tenant.example.auth0.com/',
  SPA_API_URL: 'http://localhost:5001/base',
  SPA_CLIENT_ID: 'client-123',
};

describe('SPA server', () => {
  let outer: string;
  let root: string;
  let server: Server;
  let base: string;

  before(async () => {
    outer = mkdtempSync(join(tmpdir(), 'spa-server-'));
    root = join(outer, 'dist');
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), `<html><body><app-root ngCspNonce="${NONCE_PLACEHOLDER}"></app-root><script src="main-ABCDEFGH.js" type="module"></script></body></html>`);
    writeFileSync(join(root, 'main-ABCDEFGH.js'), 'console.log(1)');
    writeFileSync(join(root, 'favicon.ico'), 'icon');
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, '..', 'secret-outside.txt'), 'secret');
    server = createServer(createSpaHandler(readSpaConfig(env), root));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(outer, { recursive: true, force: true });
  });

  function assertSecurityHeaders(response: Response): string {
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'scripts only from our origin: no inline, no eval');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self' https:\/\/tenant\.example\.auth0\.com http:\/\/localhost:5001(;|$)/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(response.headers.get('cross-origin-opener-policy'), 'same-origin');
    return csp;
  }

  it('serves index.html with a fresh nonce that matches its CSP', async () => {
    const first = await fetch(`${base}/`);
    const second = await fetch(`${base}/`);
    const nonces = [];
    for (const response of [first, second]) {
      assert.equal(response.status, 200);
      const csp = assertSecurityHeaders(response);
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
      assert.ok(nonce);
      const html = await response.text();
      assert.ok(html.includes(`ngCspNonce="${nonce}"`));
      assert.ok(!html.includes(NONCE_PLACEHOLDER));
      assert.equal(response.headers.get('cache-control'), 'no-store');
      nonces.push(nonce);
    }
    assert.notEqual(nonces[0], nonces[1]);
  });

  it('answers deep links with the app, and a missing asset with 404', async () => {
    for (const path of ['/notes', '/session', '/a/b/c?x=1']) {
      const response = await fetch(base + path);
      assert.equal(response.status, 200, path);
      assert.match(await response.text(), /<app-root/);
      assertSecurityHeaders(response);
    }
    const missing = await fetch(`${base}/missing-chunk.js`);
    assert.equal(missing.status, 404);
    assertSecurityHeaders(missing);
  });

  it('serves hashed bundles as immutable, with their type', async () => {
    const response = await fetch(`${base}/main-ABCDEFGH.js`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(response.headers.get('cache-control') ?? '', /immutable/);
    assertSecurityHeaders(response);
  });

  it('never serves a file outside the build folder', async () => {
    for (const path of ['/../secret-outside.txt', '/%2e%2e/secret-outside.txt', '/sub/..%2f..%2fsecret-outside.txt', '/%00']) {
      const response = await fetch(base + path);
      assert.notEqual(await response.text(), 'secret', path);
    }
  });

  it('serves the runtime configuration from the environment, uncached', async () => {
    const response = await fetch(`${base}/config.json`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assertSecurityHeaders(response);
    assert.deepEqual(await response.json(), {
      authority: 'https://tenant.example.auth0.com',
      clientId: 'client-123',
      audience: 'https://auth0-api-spa',
      scope: 'openid profile offline_access auth0-user-api-spa',
      apiUrl: 'http://localhost:5001/base',
      redirectUrl: 'http://localhost:4200',
      renewBeforeExpirySeconds: 30,
    });
  });

  it('answers /healthz and refuses other methods', async () => {
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const post = await fetch(`${base}/`, { method: 'POST' });
    assert.equal(post.status, 405);
    assertSecurityHeaders(post);
  });
});

describe('SPA configuration', () => {
  it('defaults to the embedded IdP and the local API', () => {
    const config = readSpaConfig({});
    assert.equal(config.browser.authority, 'http://localhost:4400');
    assert.equal(config.browser.clientId, 'spa');
    assert.equal(config.browser.audience, 'https://auth0-api-spa');
    assert.equal(config.browser.scope, 'openid profile offline_access auth0-user-api-spa');
    assert.equal(config.browser.apiUrl, 'http://localhost:5001');
    assert.equal(config.browser.redirectUrl, 'http://localhost:4200');
    assert.deepEqual(config.connectOrigins, ['http://localhost:4400', 'http://localhost:5001']);
  });

  it('refuses bad values, naming each', () => {
    assert.throws(() => readSpaConfig({ SPA_AUTHORITY: 'not a url', SPA_API_URL: 'ftp://x', SPA_PORT: '99999' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 3);
      return true;
    });
  });
});

describe('the production build', () => {
  it('contains no inline script, no inline style and no event-handler attribute', () => {
    ensureBuilt(() => {});
    const html = readFileSync(join(distDir, 'index.html'), 'utf8');
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    assert.ok(scripts.length > 0);
    for (const tag of scripts) assert.match(tag, /\bsrc=/, `inline script: ${tag}`);
    assert.doesNotMatch(html, /<style\b/);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no onload=/onerror= handlers (critical-CSS inlining is off)');
    assert.match(html, new RegExp(`ngcspnonce="${NONCE_PLACEHOLDER}"`, 'i'));
  });
});
