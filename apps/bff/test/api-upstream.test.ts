// The proxy's transport against a stand-in API that shows what arrives and when: answers and
// request bodies streamed (the next part is only sent once the other side has seen the first,
// so a buffering proxy would never finish), the query string forwarded, the API's Set-Cookie,
// CORS, connection and whole-origin headers (HSTS, Clear-Site-Data, Alt-Svc, NEL, Report-To, Set-Login, Service-Worker-Allowed) dropped (and those a Connection header names, both ways), the BFF's own answer headers added, the API's cacheable answers made private, and 502 when the API
// cannot be reached, 504 when it does not answer in time (the upstream alone, with a short
// timeout), nothing when the browser left first.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApiUpstream, upstreamFailure } from '../src/api-upstream.ts';
import { ANSWER_HEADERS, SESSION_COOKIE } from '../src/defaults.ts';
import { Browser, startBff, startSystem, type BffUnderTest, type System } from './support/system.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('the proxy\'s transport to the API', () => {
  let system: System;
  let api: Server;
  let handle: Handler = (_req, res) => res.end();
  let bff: BffUnderTest;
  let unreachable: BffUnderTest;
  let port: number;
  let cookie: string;

  before(async () => {
    system = await startSystem();
    api = createServer((req, res) => handle(req, res));
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    bff = await startBff({ BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: apiUrl });
    await bff.app.listen({ port: 0, host: '127.0.0.1' });
    port = (bff.app.server.address() as AddressInfo).port;
    const browser = new Browser(bff);
    await browser.login();
    cookie = `${SESSION_COOKIE}=${browser.sessionId!}`;
    // Nothing listens on the API port of this one.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    closed.close();
    unreachable = await startBff({ BFF_AUTHORITY: system.idp.issuer, BFF_API_URL: closedUrl });
  });
  after(async () => {
    await unreachable?.dispose();
    await bff?.dispose();
    api?.close();
    await system?.dispose();
  });

  /** A request from the browser over a real connection; answers the response as it starts. */
  function send(method: string, path: string, headers: Record<string, string> = {}) {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { 'x-csrf': '1', cookie, ...headers } });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    return { req, response };
  }

  async function text(res: IncomingMessage): Promise<string> {
    let body = '';
    for await (const chunk of res) body += chunk;
    return body;
  }

  it('streams the answer: the browser gets the first part before the API sends the rest', { timeout: 60_000 }, async () => {
    let firstPartSeen!: () => void;
    const seen = new Promise<void>((resolve) => { firstPartSeen = resolve; });
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one;');
      void seen.then(() => res.end('part two'));
    };
    const { req, response } = send('GET', '/api/stream');
    req.end();
    const res = await response;
    assert.equal(res.statusCode, 200);
    const [first] = (await once(res, 'data')) as [Buffer];
    assert.equal(first.toString(), 'part one;');
    firstPartSeen();
    assert.equal(await text(res), 'part two');
  });

  it('streams the request body: the API gets the first part before the browser sends the rest', { timeout: 60_000 }, async () => {
    let apiGotFirstPart!: (chunk: string) => void;
    const apiGot = new Promise<string>((resolve) => { apiGotFirstPart = resolve; });
    handle = (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        if (!body) apiGotFirstPart(chunk.toString());
        body += chunk;
      });
      req.on('end', () => res.end(`received ${body}`));
    };
    const { req, response } = send('POST', '/api/upload', { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    req.write('first;');
    assert.equal(await apiGot, 'first;');
    req.end('second');
    assert.equal(await text(await response), 'received first;second');
  });

  it('forwards the query, the allowed headers and the bearer token; drops the API\'s cookies, CORS and connection headers; adds the BFF\'s', async () => {
    let seen: { url: string; headers: IncomingHttpHeaders } | undefined;
    handle = (req, res) => {
      seen = { url: req.url!, headers: req.headers };
      res.writeHead(200, {
        'content-type': 'application/json', 'set-cookie': 'api=1; Path=/', 'access-control-allow-origin': '*',
        'access-control-allow-credentials': 'true', 'x-api': 'kept', 'keep-alive': 'timeout=99',
      });
      res.end('{}');
    };
    const { req, response } = send('GET', '/api/echo?x=1&y=a%20b', { accept: 'application/json', authorization: 'Bearer from-the-page', origin: 'https://evil.example' });
    req.end();
    const res = await response;
    assert.equal(await text(res), '{}');
    assert.equal(seen?.url, '/api/echo?x=1&y=a%20b');
    assert.equal(seen?.headers['accept'], 'application/json');
    assert.match(seen?.headers['authorization'] ?? '', /^Bearer eyJ/);
    for (const name of ['cookie', 'origin', 'x-csrf']) assert.equal(seen?.headers[name], undefined, name);
    for (const name of ['set-cookie', 'access-control-allow-origin', 'access-control-allow-credentials']) assert.equal(res.headers[name], undefined, name);
    assert.notEqual(res.headers['keep-alive'], 'timeout=99');
    assert.equal(res.headers['x-api'], 'kept');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('drops the API\'s headers that speak for a whole origin: HTTPS policy, Clear-Site-Data, Alt-Svc, network error reporting, login status, service-worker scope (the BFF\'s origin is not the API\'s)', async () => {
    handle = (_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json', 'strict-transport-security': 'max-age=63072000; includeSubDomains',
        'clear-site-data': '"cookies", "storage"', 'alt-svc': 'h3=":443"; ma=86400', 'x-api': 'kept',
        nel: '{"report_to":"collector","max_age":31536000,"success_fraction":1.0}',
        'report-to': '{"group":"collector","max_age":31536000,"endpoints":[{"url":"https://collector.example/reports"}]}',
        'set-login': 'logged-out', 'service-worker-allowed': '/',
      });
      res.end('{}');
    };
    const { req, response } = send('GET', '/api/echo');
    req.end();
    const res = await response;
    await text(res);
    assert.equal(res.statusCode, 200);
    // This BFF's public URL is http://: no HTTPS policy at all, the API's included.
    for (const name of ['strict-transport-security', 'clear-site-data', 'alt-svc', 'nel', 'report-to', 'set-login', 'service-worker-allowed']) assert.equal(res.headers[name], undefined, name);
    assert.equal(res.headers['x-api'], 'kept');
  });

  it('drops the headers a Connection header names, both ways (they were for one hop only)', async () => {
    let seen: IncomingHttpHeaders | undefined;
    handle = (req, res) => {
      seen = req.headers;
      res.writeHead(200, { connection: 'keep-alive, X-Internal-Route, x-upstream-node', 'x-internal-route': 'pool-b', 'x-upstream-node': '10.0.0.7', 'x-api': 'kept', 'content-type': 'text/plain' });
      res.end('ok');
    };
    const { req, response } = send('GET', '/api/echo', {
      connection: 'keep-alive, X-Request-Id, traceparent', 'x-request-id': 'hop-only', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', accept: 'text/plain',
    });
    req.end();
    const res = await response;
    assert.equal(await text(res), 'ok');
    for (const name of ['x-request-id', 'traceparent']) assert.equal(seen?.[name], undefined, `request ${name}`);
    assert.equal(seen?.['accept'], 'text/plain', 'a header it does not name still goes');
    for (const name of ['x-internal-route', 'x-upstream-node']) assert.equal(res.headers[name], undefined, `answer ${name}`);
    assert.equal(res.headers['x-api'], 'kept');
  });

  it('keeps the API\'s own cache policy and status', async () => {
    handle = (_req, res) => {
      res.writeHead(404, { 'cache-control': 'private, max-age=5', 'content-type': 'application/problem+json' });
      res.end('{"status":404}');
    };
    const { req, response } = send('GET', '/api/missing');
    req.end();
    const res = await response;
    assert.equal(res.statusCode, 404);
    assert.equal(res.headers['cache-control'], 'private, max-age=5');
    assert.equal(await text(res), '{"status":404}');
  });

  it('makes the API\'s cacheable answers private unless the API lets shared caches keep them: a cache in front of the BFF never serves one user\'s answer to another', async () => {
    // The API answered a request bearing a token (no shared cache serves that to anyone else
    // unless told it may); the browser's request bears only a cookie.
    const cases: Array<[string | string[] | undefined, string]> = [
      ['max-age=60', 'private, max-age=60'],
      ['no-cache', 'private, no-cache'],
      ['max-age=60, immutable', 'private, max-age=60, immutable'],
      ['private="x-user", max-age=60', 'private, private="x-user", max-age=60'],
      [['max-age=60', 'stale-while-revalidate=30'], 'private, max-age=60, stale-while-revalidate=30'],
      ['public, max-age=60', 'public, max-age=60'],
      ['max-age=0, S-MaxAge=30', 'max-age=0, S-MaxAge=30'],
      ['max-age=60, must-revalidate', 'max-age=60, must-revalidate'],
      ['no-store', 'no-store'],
      ['Private', 'Private'],
      [undefined, 'no-store'],
    ];
    for (const [api, browser] of cases) {
      handle = (_req, res) => {
        if (api !== undefined) res.setHeader('cache-control', api);
        res.setHeader('content-type', 'application/json');
        res.end('{"mine":true}');
      };
      const { req, response } = send('GET', '/api/mine');
      req.end();
      const res = await response;
      assert.equal(await text(res), '{"mine":true}');
      assert.equal(res.headers['cache-control'], browser, String(api));
    }
  });

  it('answers 502 problem details when the API cannot be reached', async () => {
    const browser = new Browser(unreachable);
    await browser.login();
    const res = await browser.request('GET', '/api/UserOne');
    assert.equal(res.statusCode, 502);
    assert.match(res.headers['content-type'] as string, /^application\/problem\+json/);
    assert.equal(res.json().status, 502);
    assert.equal(res.headers['cache-control'], 'no-store');
  });
});

describe('the upstream when the API gives no answer', () => {
  /** A front server handing each request to `upstream`, telling what onUnreachable got. */
  async function front(upstream: ApiUpstream, failures: Error[]): Promise<{ server: Server; port: number }> {
    const server = createServer((req, res) => upstream.forward(req, res, {
      method: req.method!, path: req.url!, headers: {}, body: null, answerHeaders: ANSWER_HEADERS,
      onUnreachable: (err) => {
        failures.push(err);
        res.writeHead(upstreamFailure(err).status).end();
      },
    }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port };
  }

  function get(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/api/x' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on('error', reject).end();
    });
  }

  it('answers 504 when the API takes the request and never answers, 502 when nothing listens', async () => {
    const silent = createServer(() => {});
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    const slow = new ApiUpstream(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, { connections: 1, timeoutMs: 200 });
    const away = new ApiUpstream(`http://127.0.0.1:${closedPort}`, { connections: 1, timeoutMs: 200 });
    const failures: Error[] = [];
    const one = await front(slow, failures);
    const two = await front(away, failures);
    try {
      assert.equal(await get(one.port), 504);
      assert.equal(await get(two.port), 502);
      assert.deepEqual(failures.map((f) => upstreamFailure(f)), [
        { status: 504, detail: 'The API did not answer in time.' },
        { status: 502, detail: 'The API could not be reached.' },
      ]);
    } finally {
      one.server.close();
      two.server.close();
      silent.closeAllConnections();
      silent.close();
      await slow.close();
      await away.close();
    }
  });

  it('tells no failure when the browser leaves before the API answers: the call is stopped, not the API\'s fault', async () => {
    let apiRequest!: (req: IncomingMessage) => void;
    const arrived = new Promise<IncomingMessage>((resolve) => { apiRequest = resolve; });
    const api = createServer((req) => apiRequest(req));
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const upstream = new ApiUpstream(`http://127.0.0.1:${(api.address() as AddressInfo).port}`, { connections: 1, timeoutMs: 60_000 });
    const failures: Error[] = [];
    const { server, port } = await front(upstream, failures);
    try {
      const browser = request({ host: '127.0.0.1', port, path: '/api/x' });
      browser.on('error', () => {});
      browser.end();
      const atApi = await arrived;
      browser.destroy();
      // The BFF stops its call to the API: the API sees it go (as an aborted request).
      atApi.on('error', () => {});
      await new Promise((resolve) => atApi.once('close', resolve));
      assert.deepEqual(failures, []);
    } finally {
      server.close();
      api.closeAllConnections();
      api.close();
      await upstream.close();
    }
  });
});
