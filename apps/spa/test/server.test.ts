// The SPA server: security headers and CSP on every response, runtime config from the
// environment, deep links, compressed and cached static files, and a build output that needs no
// inline script.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { ConfigError } from '@suite/config';
import { assertParserRefusalsAreProblems } from '../../../tests/support/parser-refusals.ts';
import { CONFIG_PLACEHOLDER, createSpaHandler, createSpaServer, NONCE_PLACEHOLDER } from '../server/app.ts';
import { distDir, ensureBuilt } from '../server/build.ts';
import { compressedCopies, negotiateEncoding, precompress, type Coding } from '../server/precompress.ts';
import { readSpaConfig } from '../server/config.ts';

const env = {
  SPA_PORT: '4200',
  SPA_AUTHORITY: 'https://tenant.example.auth0.com/',
  SPA_API_URL: 'http://localhost:5001/base',
  SPA_CLIENT_ID: 'client-123',
};

const INDEX_HTML = `<html><head><meta name="spa-config" content="${CONFIG_PLACEHOLDER}"></head><body><app-root ngCspNonce="${NONCE_PLACEHOLDER}"></app-root><script src="main-ABCDEFGH.js" type="module"></script></body></html>`;

/** The JSON in index.html's spa-config meta element, unescaped. */
function inlineConfig(html: string): unknown {
  const content = /<meta name="spa-config" content="([^"]*)">/.exec(html)?.[1];
  assert.ok(content, 'a spa-config meta element');
  return JSON.parse(content.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))));
}

/** A bundle big and repetitive enough that compression pays. */
const MAIN_JS = 'console.log("the main bundle of the app");\n'.repeat(200);
const CHUNK_JS = 'export const page = "a lazy page";\n'.repeat(100);

interface RawResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** A request whose body is not decoded (fetch would undo the Content-Encoding). */
function rawRequest(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: toHeaders(res.headers), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  return headers;
}

function decode(coding: string | null, body: Buffer): Buffer {
  if (coding === 'br') return brotliDecompressSync(body);
  if (coding === 'gzip') return gunzipSync(body);
  assert.equal(coding, null, `unexpected coding ${coding}`);
  return body;
}

describe('SPA server', () => {
  let outer: string;
  let root: string;
  let server: Server;
  let base: string;

  before(async () => {
    outer = mkdtempSync(join(tmpdir(), 'spa-server-'));
    root = join(outer, 'dist');
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), INDEX_HTML);
    writeFileSync(join(root, 'main-ABCDEFGH.js'), MAIN_JS);
    writeFileSync(join(root, 'chunk--pEaFvIN.js'), CHUNK_JS);
    writeFileSync(join(root, 'main-SHORT.js'), MAIN_JS);
    writeFileSync(join(root, 'favicon.ico'), 'icon');
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(root, '..', 'secret-outside.txt'), 'secret');
    // What a build folder may also hold but is not the app's: hidden files and folders, links.
    writeFileSync(join(root, '.env'), 'secret');
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'config'), 'secret');
    writeFileSync(join(root, 'sub', '.hidden.js'), 'secret');
    symlinkSync(join(outer, 'secret-outside.txt'), join(root, 'link.txt'));
    symlinkSync(outer, join(root, 'linked'));
    writeFileSync(join(root, 'removed-later.js'), 'soon gone');
    precompress(root);
    server = createSpaServer(readSpaConfig(env), root);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(outer, { recursive: true, force: true });
  });

  function assertSecurityHeaders(response: { headers: Headers }): string {
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'scripts only from our origin: no inline, no eval');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /default-src 'none'/);
    // No string reaches a DOM-XSS sink; Angular's sanitizer policy is the only one (decision 0072).
    assert.match(csp, /(^|; )require-trusted-types-for 'script'(;|$)/);
    assert.match(csp, /(^|; )trusted-types angular(;|$)/);
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

  it('sends brotli or gzip as the request accepts, with Vary, and the same bytes once decoded', async () => {
    const cases: [string | undefined, Coding | null][] = [
      ['gzip, deflate, br, zstd', 'br'],
      ['br', 'br'],
      ['gzip', 'gzip'],
      ['gzip;q=1, br;q=0.5', 'gzip'],
      ['br;q=0, *', 'gzip'],
      ['*', 'br'],
      ['identity', null],
      ['br;q=0, gzip;q=0', null],
      ['compress, deflate', null],
      [undefined, null],
    ];
    for (const [accept, expected] of cases) {
      for (const [path, content] of [['/main-ABCDEFGH.js', MAIN_JS], ['/chunk--pEaFvIN.js', CHUNK_JS]] as const) {
        const response = await rawRequest(base + path, accept === undefined ? {} : { 'accept-encoding': accept });
        const what = `${path} with Accept-Encoding: ${accept}`;
        assert.equal(response.status, 200, what);
        assert.equal(response.headers.get('content-encoding'), expected, what);
        assert.equal(response.headers.get('vary'), 'Accept-Encoding', what);
        assert.equal(Number(response.headers.get('content-length')), response.body.length, what);
        if (expected) assert.ok(response.body.length < Buffer.byteLength(content), `${what}: smaller on the wire`);
        assert.equal(decode(response.headers.get('content-encoding'), response.body).toString('utf8'), content, what);
        assert.match(response.headers.get('content-type') ?? '', /^text\/javascript/, what);
        assert.match(response.headers.get('cache-control') ?? '', /immutable/, what);
        assertSecurityHeaders(response);
      }
    }
  });

  it('answers HEAD with the headers of the compressed answer and no body', async () => {
    const get = await rawRequest(`${base}/main-ABCDEFGH.js`, { 'accept-encoding': 'br' });
    const head = await rawRequest(`${base}/main-ABCDEFGH.js`, { 'accept-encoding': 'br' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-encoding'), 'br');
    assert.equal(head.headers.get('content-length'), get.headers.get('content-length'));
    assert.equal(head.body.length, 0);
  });

  it('sends a file without a smaller copy as it is, without Vary', async () => {
    const response = await rawRequest(`${base}/favicon.ico`, { 'accept-encoding': 'br, gzip' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-encoding'), null);
    assert.equal(response.headers.get('vary'), null);
    assert.equal(response.body.toString(), 'icon');
  });

  it('never compresses or caches index.html, whatever the request accepts', async () => {
    for (const path of ['/', '/index.html', '/notes']) {
      const response = await rawRequest(base + path, { 'accept-encoding': 'br, gzip' });
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-encoding'), null, path);
      assert.equal(response.headers.get('cache-control'), 'no-store', path);
      const nonce = /'nonce-([^']+)'/.exec(assertSecurityHeaders(response))?.[1];
      assert.ok(nonce && response.body.toString().includes(`ngCspNonce="${nonce}"`), path);
    }
  });

  it('caches for good only the content-hashed bundles', async () => {
    const immutable = /^public, max-age=\d+, immutable$/;
    for (const path of ['/main-ABCDEFGH.js', '/chunk--pEaFvIN.js']) {
      assert.match((await rawRequest(base + path)).headers.get('cache-control') ?? '', immutable, path);
    }
    for (const path of ['/favicon.ico', '/main-SHORT.js']) {
      assert.equal((await rawRequest(base + path)).headers.get('cache-control'), 'no-cache', path);
    }
    for (const path of ['/config.json', '/healthz']) {
      assert.equal((await rawRequest(base + path)).headers.get('cache-control'), 'no-store', path);
    }
  });

  it('answers what the HTTP parser refuses as problem details, nosniff, not stored, then closes', async () => {
    await assertParserRefusalsAreProblems((server.address() as AddressInfo).port, '/', '/');
  });

  it('never lets an error be stored by a cache: missing files, bad paths, other methods', async () => {
    const errors: [string, string, number][] = [
      ['GET', '/chunk-NEWBUILD.js', 404], ['GET', '/.hidden.js', 404], ['HEAD', '/missing.css', 404],
      ['GET', '/%', 400], ['POST', '/', 405], ['OPTIONS', '/main-ABCDEFGH.js', 405], ['DELETE', '/config.json', 405],
    ];
    for (const [method, path, status] of errors) {
      const response = await rawRequest(base + path, {}, method);
      assert.equal(response.status, status, `${method} ${path}`);
      assert.equal(response.headers.get('cache-control'), 'no-store', `${method} ${path}`);
      assertSecurityHeaders(response);
    }
  });

  it('never serves a file outside the build folder', async () => {
    for (const path of ['/../secret-outside.txt', '/%2e%2e/secret-outside.txt', '/sub/..%2f..%2fsecret-outside.txt', '/%00']) {
      const response = await fetch(base + path);
      assert.notEqual(await response.text(), 'secret', path);
    }
  });

  it('serves only the regular files of the build folder: no hidden file or folder, no link, no copy by its own name', async () => {
    // A path with an extension is a missing file; one without is a deep link, answered with the app.
    const answers: [string, RegExp][] = [
      ['/.env', /<app-root/], ['/.git/config', /<app-root/], ['/%2eenv', /<app-root/], ['/sub/.hidden.js', /^Not Found$/],
      ['/link.txt', /^Not Found$/], ['/linked/secret-outside.txt', /^Not Found$/], ['/linked/dist/favicon.ico', /^Not Found$/],
    ];
    for (const [path, expected] of answers) {
      const response = await rawRequest(base + path);
      assert.match(response.body.toString(), expected, path);
      assert.equal(response.status, expected.source === '<app-root' ? 200 : 404, path);
      assertSecurityHeaders(response);
    }
    for (const path of ['/main-ABCDEFGH.js.br', '/main-ABCDEFGH.js.gz']) {
      assert.equal((await rawRequest(base + path)).status, 404, path);
    }
    assert.equal((await rawRequest(`${base}/favicon.ico`)).body.toString(), 'icon');
  });

  it('answers a file removed since the start as missing, and keeps serving', async () => {
    rmSync(join(root, 'removed-later.js'));
    const response = await rawRequest(`${base}/removed-later.js`);
    assert.equal(response.status, 404);
    assertSecurityHeaders(response);
    assert.equal((await rawRequest(`${base}/main-ABCDEFGH.js`)).status, 200);
  });

  it('serves the runtime configuration from the environment, uncached', async () => {
    const response = await fetch(`${base}/config.json`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assertSecurityHeaders(response);
    assert.deepEqual(await response.json(), {
      mode: 'token',
      authority: 'https://tenant.example.auth0.com',
      clientId: 'client-123',
      audience: 'https://auth0-api-spa',
      scope: 'openid profile offline_access auth0-user-api-spa',
      apiUrl: 'http://localhost:5001/base',
      redirectUrl: 'http://localhost:4200',
      renewBeforeExpirySeconds: 30,
    });
  });

  it('writes the runtime configuration into index.html, the same as /config.json', async () => {
    const html = await (await fetch(`${base}/`)).text();
    assert.ok(!html.includes(CONFIG_PLACEHOLDER));
    assert.deepEqual(inlineConfig(html), await (await fetch(`${base}/config.json`)).json());
  });

  it('escapes the inline configuration: a hostile value cannot leave the attribute', async () => {
    const hostile = readSpaConfig({ ...env, SPA_CLIENT_ID: `x"><script>alert(1)</script><meta x='` });
    const dir = mkdtempSync(join(tmpdir(), 'spa-hostile-'));
    writeFileSync(join(dir, 'index.html'), INDEX_HTML);
    const other = createServer(createSpaHandler(hostile, dir));
    try {
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      const html = await (await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`)).text();
      assert.ok(!html.includes('<script>alert'), 'no markup from the value');
      assert.equal((inlineConfig(html) as { clientId: string }).clientId, hostile.browser.clientId);
    } finally {
      await new Promise((resolve) => other.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
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

describe('precompressed copies', () => {
  it('are written once, only when smaller, and never for index.html', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spa-precompress-'));
    try {
      writeFileSync(join(dir, 'index.html'), '<html>' + 'x'.repeat(5000) + '</html>');
      writeFileSync(join(dir, 'main-ABCDEFGH.js'), MAIN_JS);
      writeFileSync(join(dir, 'tiny.js'), '1');
      writeFileSync(join(dir, 'picture.png'), MAIN_JS);
      mkdirSync(join(dir, 'media'));
      writeFileSync(join(dir, 'media', 'icon.svg'), '<svg>' + '<g/>'.repeat(200) + '</svg>');
      assert.equal(precompress(dir), 4);
      assert.equal(precompress(dir), 0, 'up-to-date copies are not rewritten');
      assert.deepEqual(
        [...compressedCopies(dir)].map(([name, codings]) => [name, [...codings].sort()]).sort(),
        [['main-ABCDEFGH.js', ['br', 'gzip']], ['media/icon.svg', ['br', 'gzip']]],
      );
      assert.equal(brotliDecompressSync(readFileSync(join(dir, 'main-ABCDEFGH.js.br'))).toString(), MAIN_JS);
      assert.equal(gunzipSync(readFileSync(join(dir, 'main-ABCDEFGH.js.gz'))).toString(), MAIN_JS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are chosen by Accept-Encoding and its q-values', () => {
    const both = new Set<Coding>(['br', 'gzip']);
    assert.equal(negotiateEncoding('gzip, br', both), 'br');
    assert.equal(negotiateEncoding('BR;Q=0.8, GZIP;q=0.9', both), 'gzip');
    assert.equal(negotiateEncoding('br', new Set<Coding>(['gzip'])), undefined);
    assert.equal(negotiateEncoding('*;q=0', both), undefined);
    assert.equal(negotiateEncoding('gzip;q=0, *;q=0.1', both), 'br');
    assert.equal(negotiateEncoding('br;q=nonsense, gzip', both), 'gzip');
    assert.equal(negotiateEncoding('', both), undefined);
    assert.equal(negotiateEncoding(undefined, both), undefined);
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
    // The nonce reaches Angular's style elements through a meta element, never the script
    // elements: a nonce changing with every response would make Chromium compile the bundle
    // again at every load instead of reusing the previous load's compilation.
    assert.match(html, new RegExp(`<meta name="csp-nonce" content="${NONCE_PLACEHOLDER}">`));
    for (const tag of [...scripts, ...(html.match(/<link\b[^>]*>/g) ?? [])]) assert.doesNotMatch(tag, /\bnonce=/, `nonce on ${tag}`);
    assert.doesNotMatch(html, /ngcspnonce/i, 'the build copies ngCspNonce onto the script elements');
    assert.match(html, new RegExp(`<meta name="spa-config" content="${CONFIG_PLACEHOLDER}">`));
  });

  it('starts without angular-auth-oidc-client: it is a lazy chunk of its own', () => {
    ensureBuilt(() => {});
    // What index.html loads or preloads, and everything that imports statically.
    const html = readFileSync(join(distDir, 'index.html'), 'utf8');
    const queue = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^":]+\.js)"/g)].map((m) => m[1]!);
    const initial = new Set<string>();
    while (queue.length > 0) {
      const name = queue.shift()!.replace(/^\.?\//, '');
      if (initial.has(name)) continue;
      initial.add(name);
      const code = readFileSync(join(distDir, name), 'utf8');
      for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.\/[\w.-]+\.js)["']/g)) queue.push(m[1]!);
    }
    assert.ok(initial.size > 0);
    // A method of the library's own services (property names survive minification).
    const libraryMarker = 'getSigningKeys';
    for (const name of initial) assert.ok(!readFileSync(join(distDir, name), 'utf8').includes(libraryMarker), `${name} holds the library`);
    const lazy = readdirSync(distDir).filter((name) => name.endsWith('.js') && !initial.has(name));
    assert.ok(lazy.some((name) => readFileSync(join(distDir, name), 'utf8').includes(libraryMarker)), 'the library is in a lazy chunk');
  });

  it('has brotli and gzip copies of every script and style sheet', () => {
    ensureBuilt(() => {});
    const copies = compressedCopies(distDir);
    const html = readFileSync(join(distDir, 'index.html'), 'utf8');
    const assets = [...html.matchAll(/\b(?:src|href)="([^":]+\.(?:js|css))"/g)].map((m) => m[1]!);
    assert.ok(assets.some((name) => name.endsWith('.js')));
    for (const name of assets) assert.deepEqual([...(copies.get(name) ?? [])].sort(), ['br', 'gzip'], name);
  });
});
