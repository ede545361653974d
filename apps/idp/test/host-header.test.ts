// A client chooses its Host (and, through a trusted proxy, X-Forwarded-Host) header: none of it
// may reach a URL the IdP writes, and a Host that is not a host at all is a client error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startIdpInProcess, type InProcessIdp } from '../../../tests/support/idp-in-process.ts';

/** Sends raw bytes (headers no client library would send) and returns the status and body. */
async function rawRequest(port: number, head: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (chunk) => { data += chunk.toString('utf8'); });
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(data.split(' ')[1]), body: data.slice(data.indexOf('\r\n\r\n') + 4) }));
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

for (const trustProxy of [false, true]) {
  describe(`Host headers (IDP_TRUST_PROXY=${trustProxy})`, () => {
    let idp: InProcessIdp;
    let port: number;
    const hostile = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    before(async () => {
      idp = await startIdpInProcess({ IDP_TRUST_PROXY: String(trustProxy) });
      port = Number(new URL(idp.issuer).port);
    });
    after(async () => idp.close());

    test('a malformed Host gets 400, and nothing is logged as an error', async () => {
      for (const host of ['exa mple', '[', 'evil.example/path', 'user@evil.example', 'evil.example:port', '%', '']) {
        for (const path of ['/.well-known/openid-configuration', '/interaction/abc', '/healthz']) {
          const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}`);
          assert.equal(res.status, 400, `Host: ${JSON.stringify(host)} on ${path}`);
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
  });
}
