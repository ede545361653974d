// A client chooses its Host (and, through a trusted proxy, X-Forwarded-Host and -Proto) header: none
// of it may reach a URL the IdP writes, and a Host that is not a host at all is a client error. The
// issuer's scheme is the only truth too: an https issuer behind a TLS-terminating proxy, trusted or
// not, writes https URLs and sets Secure cookies although the request reached it over http.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';
import { IDP_HOST_SESSION_COOKIE } from '../src/defaults.ts';

/** Sends raw bytes (headers no client library would send) and returns the status, head and body. */
async function rawRequest(port: number, head: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (chunk) => { data += chunk.toString('utf8'); });
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(data.split(' ')[1]), head: data.slice(0, data.indexOf('\r\n\r\n')), body: data.slice(data.indexOf('\r\n\r\n') + 4) }));
  });
}

/** GET with whatever headers the test wants, Host included (fetch would not send it). */
async function get(issuer: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = new URL(path, issuer);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: url.port, path: url.pathname + url.search, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every string value in a JSON document that looks like a URL. */
function urlsIn(doc: unknown): string[] {
  if (typeof doc === 'string') return /^[a-z]+:\/\//i.test(doc) ? [doc] : [];
  if (Array.isArray(doc)) return doc.flatMap(urlsIn);
  if (doc && typeof doc === 'object') return Object.values(doc).flatMap(urlsIn);
  return [];
}

/** The login form's action in a login page. */
const loginAction = (html: string) => /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];

for (const [scheme, trustProxy] of [['http', false], ['http', true], ['https', false], ['https', true]] as const) {
  describe(`Host headers (${scheme}:// issuer, IDP_TRUST_PROXY=${trustProxy})`, () => {
    let idp: InProcessIdp;
    let port: number;
    const hostile = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': scheme === 'https' ? 'http' : 'https' };
    before(async () => {
      // The IdP itself listens on plain http on loopback, as behind a TLS-terminating proxy.
      idp = await startIdpInProcess((p) => ({ IDP_TRUST_PROXY: String(trustProxy), IDP_ISSUER: `${scheme}://localhost:${p}` }));
      port = Number(new URL(idp.issuer).port);
    });
    after(async () => idp.close());

    test('a malformed Host gets 400 with every answer\'s security headers, and nothing is logged as an error', async () => {
      for (const host of ['exa mple', '[', 'evil.example/path', 'user@evil.example', 'evil.example:port', '%', '']) {
        for (const path of ['/.well-known/openid-configuration', '/interaction/abc', '/healthz']) {
          const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}`);
          assert.equal(res.status, 400, `Host: ${JSON.stringify(host)} on ${path}`);
          for (const header of [/^x-content-type-options: nosniff$/im, /^x-frame-options: DENY$/im, /^referrer-policy: no-referrer$/im, /^content-security-policy: default-src 'none';.*frame-ancestors 'none'/im, /^cache-control: no-store$/im]) {
            assert.match(res.head, header, `Host: ${JSON.stringify(host)} on ${path}`);
          }
        }
      }
      const errors = idp.logs.filter((l) => JSON.parse(l).level === 'error');
      assert.deepEqual(errors, []);
    });

    test('discovery builds every URL from the issuer, whatever Host says', async () => {
      const res = await get(idp.issuer, '/.well-known/openid-configuration', hostile);
      assert.equal(res.status, 200);
      const doc = JSON.parse(res.body) as Record<string, unknown>;
      const urls = urlsIn(doc);
      assert.ok(urls.length > 5 && typeof doc['jwks_uri'] === 'string');
      for (const url of urls) assert.ok(url === idp.issuer || url.startsWith(`${idp.issuer.replace(/\/$/, '')}/`), url);
      assert.doesNotMatch(res.body, /evil/);
    });

    test('the logout form posts to the issuer, whatever Host says', async () => {
      const discovery = JSON.parse((await get(idp.issuer, '/.well-known/openid-configuration', {})).body) as { end_session_endpoint: string };
      const res = await get(idp.issuer, new URL(discovery.end_session_endpoint).pathname, hostile);
      assert.equal(res.status, 200);
      const action = /<form[^>]*action="([^"]+)"/.exec(res.body)?.[1];
      assert.ok(action?.startsWith(`${idp.issuer.replace(/\/$/, '')}/`), `form action ${action}`);
      assert.doesNotMatch(res.body, /evil/);
    });

    test(`a whole login writes only ${scheme}:// URLs of the issuer${scheme === 'https' ? ' and sets only Secure cookies' : ''}, whatever the headers say`, async () => {
      const cookies = new Map<string, string>();
      const setCookies: string[] = [];
      const locations: string[] = [];
      // Every request goes to the loopback port over http, with the hostile headers and the cookies so far.
      const send = (path: string, init: { method?: string; body?: string } = {}) => new Promise<{ status: number; location?: string; body: string }>((resolve, reject) => {
        const target = new URL(path, idp.issuer);
        const headers: Record<string, string> = { ...hostile, cookie: [...cookies].map(([n, v]) => `${n}=${v}`).join('; ') };
        if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
        const req = request({ host: '127.0.0.1', port, path: target.pathname + target.search, method: init.method ?? 'GET', headers }, (res) => {
          for (const line of res.headers['set-cookie'] ?? []) {
            setCookies.push(line);
            const [pair] = line.split(';');
            cookies.set(pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1));
          }
          if (res.headers.location) locations.push(res.headers.location);
          let body = '';
          res.on('data', (chunk) => { body += chunk; });
          res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, body }));
        });
        req.on('error', reject);
        req.end(init.body);
      });
      const authorize = new URLSearchParams({
        client_id: 'spa', response_type: 'code', redirect_uri: 'http://localhost:4200', scope: 'openid offline_access',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's',
      });
      let res = await send(`/authorize?${authorize}`);
      assert.equal(res.status, 303);
      res = await send(res.location!);
      const action = loginAction(res.body);
      assert.ok(action, `login page expected, got ${res.status}`);
      res = await send(action, { method: 'POST', body: 'username=alice&password=demo-alice' });
      for (let hops = 0; hops < 5 && res.location && !res.location.startsWith('http://localhost:4200'); hops++) res = await send(res.location);
      assert.ok(res.location?.startsWith('http://localhost:4200/?code='), `back at the client: ${res.status} ${res.location}`);
      // With an https issuer the session cookie is __Host- prefixed: Secure, Path=/, no Domain (decision 0060).
      const sessionCookie = scheme === 'https' ? IDP_HOST_SESSION_COOKIE : '_session';
      assert.ok(cookies.has(sessionCookie), `the login set the session cookie ${sessionCookie}`);
      assert.ok(!cookies.has(scheme === 'https' ? '_session' : IDP_HOST_SESSION_COOKIE));
      for (const line of setCookies.filter((l) => l.startsWith(`${sessionCookie}=`) || l.startsWith(`${sessionCookie}.sig=`))) {
        assert.match(line, /;\s*path=\/(;|$)/i, line);
        assert.doesNotMatch(line, /domain=/i, line);
      }
      for (const location of locations.filter((l) => /^[a-z]+:/i.test(l) && !l.startsWith('http://localhost:4200'))) {
        assert.ok(location.startsWith(`${idp.issuer}/`), `redirect to ${location}`);
      }
      for (const line of setCookies) assert.equal(/;\s*secure\b/i.test(line), scheme === 'https', line);
    });
  });
}
