// The IdP client's thread (src/idp-client.ts) gives the answers and errors of the bounded fetch
// it runs there (src/idp-http.ts), each call its own, in parallel too.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { IDP_MAX_RESPONSE_BYTES } from '../src/defaults.ts';
import { fetchIdpJson, stopIdpClientThread } from '../src/idp-client.ts';
import { IdpHttpError } from '../src/idp-http.ts';

let server: Server;
let base: string;
before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/echo') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => res.setHeader('content-type', 'application/json').end(JSON.stringify({ n: Number(url.searchParams.get('n')), method: req.method, auth: req.headers.authorization ?? null, body })));
      return;
    }
    if (url.pathname === '/fail') return void res.writeHead(500).end('{}');
    if (url.pathname === '/text') return void res.end('<html>');
    if (url.pathname === '/array') return void res.end('[1]');
    if (url.pathname === '/huge') return void res.end(`{"x":"${'a'.repeat(IDP_MAX_RESPONSE_BYTES)}"}`);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => { server.closeAllConnections(); server.close(); });

test('answers come back to their own call, in parallel, with method, headers and body sent as given', async () => {
  const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => fetchIdpJson(`${base}/echo?n=${n}`, n % 2 ? { method: 'POST', headers: { authorization: 'Basic eA==' }, body: `b${n}` } : {})));
  answers.forEach((a, n) => assert.deepEqual(a, n % 2 ? { n, method: 'POST', auth: 'Basic eA==', body: `b${n}` } : { n, method: 'GET', auth: null, body: '' }));
});

test('each failure is an IdpHttpError naming the URL and what was wrong', async () => {
  const cases: Array<[string, RegExp]> = [
    ['/fail', /\/fail: HTTP 500$/],
    ['/text', /\/text: not JSON$/],
    ['/array', /\/array: not a JSON object$/],
    ['/huge', /\/huge: response larger than \d+ bytes$/],
  ];
  for (const [path, message] of cases) {
    await assert.rejects(fetchIdpJson(base + path), (err: Error) => err instanceof IdpHttpError && message.test(err.message), path);
  }
  // Nothing listens on port 9 of the loopback address.
  await assert.rejects(fetchIdpJson('http://127.0.0.1:9/x'), (err: Error) => err instanceof IdpHttpError && /unreachable$/.test(err.message));
});

test('a thread that ends fails its pending calls with an IdpHttpError, and the next call starts a new thread', { timeout: 60_000 }, async () => {
  let stalled = 0;
  const silent = createServer(() => { stalled++; });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const pendingCall = fetchIdpJson(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/never`);
    while (stalled === 0) await new Promise((resolve) => setImmediate(resolve));
    await stopIdpClientThread();
    await assert.rejects(pendingCall, (err: Error) => err instanceof IdpHttpError && /IdP client thread exited/.test(err.message));
    assert.deepEqual(await fetchIdpJson(`${base}/echo?n=7`), { n: 7, method: 'GET', auth: null, body: '' });
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});
