// Over real sockets: duplicate Authorization headers, logs that never carry a token, and the
// server process (start-up with bad configuration, readiness, graceful stop on SIGTERM).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter, once } from 'node:events';
import { runServer } from '@suite/process-shell';
import { buildApi, httpTimeouts, loggerOptions } from '../src/app.ts';
import { readApiConfig } from '../src/config.ts';
import { assertParserRefusalsAreProblems, rawRequest } from '../../../tests/support/parser-refusals.ts';
import { assertRefusedWhileDraining } from '../../../tests/support/draining.ts';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

let idp: TestIssuer;
before(async () => { idp = await startTestIssuer(); });
after(async () => { await idp.close(); });

test('two Authorization headers: 400 invalid_request, even when both are valid', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const api = buildApi(readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir }), { logger: false });
  try {
    await api.authority.start();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (api.app.server.address() as { port: number }).port;
    const token = await idp.sign();
    const one = await rawRequest(port, ['GET /api/UserOne HTTP/1.1', 'Host: localhost', `Authorization: Bearer ${token}`, 'Connection: close']);
    assert.match(one, /^HTTP\/1\.1 200/);
    const two = await rawRequest(port, ['GET /api/UserOne HTTP/1.1', 'Host: localhost', `Authorization: Bearer ${token}`, `authorization: Bearer ${token}`, 'Connection: close']);
    assert.match(two, /^HTTP\/1\.1 400/);
    assert.match(two, /www-authenticate: Bearer error="invalid_request"/i);
  } finally {
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requests the HTTP parser refuses (malformed, headers too large) are problem details too, and the connection closes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const api = buildApi(readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir }), { logger: false });
  try {
    await api.authority.start();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    await assertParserRefusalsAreProblems((api.app.server.address() as { port: number }).port, '/api/UserOne', '/api/notes');
  } finally {
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no token ever reaches a log line, even at debug level and from the query string', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  const config = readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir, API_LOG_LEVEL: 'debug' });
  const api = buildApi(config, { logger: { ...(loggerOptions('debug') as object), stream } });
  try {
    await api.authority.start();
    const good = await idp.sign();
    const forged = `${good.slice(0, -8)}AAAAAAAA`;
    await api.app.inject({ url: '/api/UserOne', headers: { authorization: `Bearer ${good}` } });
    await api.app.inject({ url: '/api/UserOne', headers: { authorization: `Bearer ${forged}` } });
    await api.app.inject({ url: `/api/UserOne?access_token=${good}` });
    await api.app.inject({ url: '/api/nope', headers: { authorization: `Bearer ${good}` } });
    const all = lines.join('');
    assert.ok(lines.length >= 6, 'request lines were logged');
    assert.match(all, /request refused/);
    for (const part of [...good.split('.'), ...forged.split('.')]) assert.ok(!all.includes(part), 'a token segment is in the logs');
  } finally {
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unexpected error is logged with its type, message, code and stack only, never what a library attached to it', async () => {
  for (const level of ['info', 'debug']) {
    const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
    const api = buildApi(readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir, API_LOG_LEVEL: level }), { logger: { ...(loggerOptions(level) as object), stream } });
    try {
      // As a Redis client's error carries the command it failed, arguments included.
      api.app.get('/api/failing', () => {
        throw Object.assign(new Error('the store failed'), { code: 'ESTORE', command: { name: 'set', args: ['login:1', 'pkce-verifier-canary'] }, options: { password: 'store-password-canary' } });
      });
      await api.authority.start();
      const res = await api.app.inject({ url: '/api/failing', headers: { authorization: `Bearer ${await idp.sign()}` } });
      assert.equal(res.statusCode, 500, level);
      const failed = lines.map((l) => JSON.parse(l) as { msg?: string; err?: Record<string, unknown> }).find((l) => l.msg === 'request failed');
      assert.ok(failed?.err, `${level}: the failure is logged`);
      assert.deepEqual(Object.keys(failed.err).sort(), ['code', 'message', 'stack', 'type'], level);
      assert.equal(failed.err['code'], 'ESTORE');
      assert.doesNotMatch(lines.join(''), /canary/, level);
    } finally {
      await api.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('at the default level a refusal is logged with its request id and no token; a success logs nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  const config = readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir });
  const api = buildApi(config, { logger: { ...(loggerOptions('info') as object), stream } });
  try {
    await api.authority.start();
    await api.app.ready();
    const good = await idp.sign();
    const before = lines.length;
    const ok = await api.app.inject({ url: '/api/UserOne', headers: { authorization: `Bearer ${good}` } });
    assert.equal(ok.statusCode, 200);
    assert.equal(lines.length, before, 'a successful request writes no line at info level');
    const forged = `${good.slice(0, -8)}AAAAAAAA`;
    const refused = await api.app.inject({ url: '/api/UserOne', headers: { authorization: `Bearer ${forged}` } });
    assert.equal(refused.statusCode, 401);
    const logged = lines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    const refusal = logged.find((l) => l.msg === 'request refused');
    assert.ok(refusal, 'the refusal is logged');
    assert.equal(refusal.level, 'info');
    assert.equal(refusal.app, 'api');
    assert.equal(refusal.status, 401);
    assert.equal(typeof refusal.reqId, 'string', 'the line carries the request id');
    for (const part of forged.split('.')) assert.ok(!lines.join('').includes(part), 'a token segment is in the logs');
  } finally {
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('at the default level a server fault is logged with its request id and the error, through the same logger as the process lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  const config = readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir });
  const api = buildApi(config, { logger: { ...loggerOptions('info'), stream } });
  api.app.get('/faulty', { config: { public: true } }, async () => { throw new Error('disk on fire'); });
  try {
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    assert.ok(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('Server listening at') && l.app === 'api'), 'Fastify\'s own lines use the API\'s logger');
    const res = await api.app.inject({ url: '/faulty' });
    assert.equal(res.statusCode, 500);
    assert.doesNotMatch(res.body, /disk on fire/, 'the details stay in the log');
    const fault = lines.find((l) => l.msg === 'request failed');
    assert.ok(fault, 'the fault is logged');
    assert.equal(fault.level, 'error');
    assert.equal(typeof fault.reqId, 'string');
    const err = fault.err as Record<string, unknown>;
    assert.equal(err.type, 'Error', 'the error is serialized as pino does for Fastify');
    assert.equal(err.message, 'disk on fire');
    assert.match(String(err.stack), /disk on fire/);
  } finally {
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("at the default level Fastify's own per-request lines carry the request id too (a reply sent twice)", async () => {
  // Fastify writes some lines itself through reply.log (a route that sends twice, an error after the
  // answer left); below debug it gets no logger of its own, so reply.log is the API's (logging.ts).
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  const config = readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir });
  const api = buildApi(config, { logger: { ...loggerOptions('info'), stream } });
  api.app.get('/twice', { config: { public: true } }, async (_req, reply) => {
    await reply.send(['first']);
    return ['second'];
  });
  try {
    const res = await api.app.inject({ url: '/twice' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '["first"]');
    const warning = lines.find((l) => l.level === 'warn' && (l.err as Record<string, unknown> | undefined)?.code === 'FST_ERR_REP_ALREADY_SENT');
    assert.ok(warning, "Fastify's warning is logged");
    assert.equal(warning.app, 'api');
    assert.equal(typeof warning.reqId, 'string', 'with the request id');
  } finally {
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('anonymous refusals do not flood the log: a few lines per reason, then one count per window', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  let t = Date.now();
  const config = readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir, API_REFUSAL_LOG_LINES: '3' });
  const api = buildApi(config, { logger: { ...(loggerOptions('info') as object), stream }, now: () => t });
  try {
    await api.authority.start();
    for (let i = 0; i < 50; i++) assert.equal((await api.app.inject({ url: '/api/UserOne' })).statusCode, 401);
    const forged = `${(await idp.sign()).slice(0, -8)}AAAAAAAA`;
    for (let i = 0; i < 5; i++) await api.app.inject({ url: '/api/UserOne', headers: { authorization: `Bearer ${forged}` } });
    const refused = (reason: string) => lines.filter((l) => l.msg === 'request refused' && l.reason === reason);
    assert.equal(refused('token_missing').length, 3, 'three anonymous refusals logged one by one');
    assert.equal(refused('signature_invalid').length, 3, 'the budget is per reason');
    assert.ok(refused('token_missing').every((l) => l.status === 401 && typeof l.reqId === 'string'));

    t += 61_000; // the next window
    await api.app.inject({ url: '/api/UserOne' });
    const summary = lines.find((l) => l.msg === 'requests refused (not logged one by one)');
    assert.ok(summary, 'the rest are counted');
    assert.deepEqual(summary.suppressed, { token_missing: 47, signature_invalid: 2 });
    assert.equal(summary.windowSeconds, 60);
    assert.equal(refused('token_missing').length, 4, 'a new window logs again');
  } finally {
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a body trickling in is dropped once the request timeout has passed (408, connection closed)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const config = readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir, API_REQUEST_TIMEOUT: '1' });
  const api = buildApi(config, { logger: false });
  const trickle: { timer?: NodeJS.Timeout } = {};
  try {
    await api.authority.start();
    // Served as server.ts serves it: through the process shell, with the configured timeouts.
    const { port } = await runServer({
      app: 'api', server: api.app.server, port: 0, host: '127.0.0.1', timeouts: httpTimeouts(config), shutdownGraceMs: 1000,
      listen: () => api.app.listen({ port: 0, host: '127.0.0.1' }), close: () => api.app.close(),
      log: () => {}, signals: new EventEmitter(), exit: () => {},
    });
    const token = await idp.sign();
    const answer = await new Promise<{ data: string; bytesSent: number }>((resolve, reject) => {
      let data = '';
      let bytesSent = 0;
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(['POST /api/notes HTTP/1.1', 'Host: localhost', `Authorization: Bearer ${token}`, 'Content-Type: application/json', 'Content-Length: 200', '', ''].join('\r\n'));
        // One byte at a time, far slower than any real client, for at most 200 bytes.
        trickle.timer = setInterval(() => {
          if (socket.destroyed) return clearInterval(trickle.timer);
          if (bytesSent >= 200) return socket.end(); // never dropped: the assertions below fail
          socket.write(bytesSent === 0 ? '{' : ' ');
          bytesSent++;
        }, 250);
      });
      socket.on('data', (d) => { data += d.toString(); });
      socket.on('close', () => resolve({ data, bytesSent }));
      socket.on('error', reject);
    });
    assert.match(answer.data, /^HTTP\/1\.1 408/, 'the server answered 408 Request Timeout');
    assert.match(answer.data, /\r\ncontent-type: application\/problem\+json/i, 'in the shape of every other error');
    assert.ok(answer.bytesSent < 200, 'dropped before the body was complete');
  } finally {
    clearInterval(trickle.timer);
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('while it drains after SIGTERM, a request on an open connection is refused as problem details, not in Fastify\'s shape', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const config = readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir });
  const api = buildApi(config, { logger: false });
  let arrived!: () => void;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // A request the test holds in flight, so that the server is still draining when the next comes.
  api.app.get('/held', { config: { public: true } }, async () => {
    arrived();
    await gate;
    return { held: true };
  });
  const signals = new EventEmitter();
  let exited!: (code: number) => void;
  const exitCode = new Promise<number>((resolve) => (exited = resolve));
  try {
    await api.authority.start();
    const { port } = await runServer({
      app: 'api', server: api.app.server, port: 0, host: '127.0.0.1', timeouts: httpTimeouts(config), shutdownGraceMs: 30_000,
      listen: () => api.app.listen({ port: 0, host: '127.0.0.1' }), close: () => api.app.close(),
      log: () => {}, signals, exit: exited,
    });
    // Readiness too: a load balancer probing on a kept-alive connection sees the server not ready.
    const first = await assertRefusedWhileDraining({ server: api.app.server, port, held: 'GET /held', arrived: arrival, release, after: 'GET /readyz', stop: () => signals.emit('SIGTERM') });
    assert.match(first, /^HTTP\/1\.1 200 /, 'the request in flight finishes');
    assert.equal(await exitCode, 0);
  } finally {
    release();
    await api.app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const SERVER = join(import.meta.dirname, '..', 'src', 'server.ts');

test('bad configuration: the server refuses to start and names the variable', async () => {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, AUTH_ALGORITHMS: 'HS256', API_CORS_ORIGINS: 'http://x/path' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => { out += d; });
  // 'close', not 'exit': at 'exit' the lines naming the variables may still be in the pipe.
  const [code] = await once(child, 'close');
  assert.equal(code, 2);
  assert.match(out, /AUTH_ALGORITHMS/);
  assert.match(out, /API_CORS_ORIGINS/);
});

test('the server process: ready once the issuer is loaded, stops gracefully on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  // Port 0: the server binds a port the OS picks and names it in its `listening` line, so that no
  // other process can take the port between its reservation and the server's listen.
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, API_PORT: '0', API_HOST: '127.0.0.1', AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir, API_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const closed = once(child, 'close');
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  try {
    // Bounded against a hang only: a loaded two-core machine takes several seconds to start a
    // server (100 tries of 100 ms, as before, were 10 s).
    const deadline = Date.now() + 60_000;
    let port: number | undefined;
    let ready = false;
    while (!ready && child.exitCode === null && Date.now() < deadline) {
      await sleep(100);
      port ??= Number(/"msg":"listening"[^\n]*?"port":(\d+)|"port":(\d+)[^\n]*?"msg":"listening"/.exec(out)?.slice(1).find(Boolean)) || undefined;
      if (port) ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    }
    assert.ok(ready, `not ready: ${out}`);
    const res = await fetch(`http://127.0.0.1:${port}/api/UserOne`, { headers: { authorization: `Bearer ${await idp.sign()}` } });
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    // 'close', not 'exit': at 'exit' its last lines (`stopped`) may still be in the pipe.
    const [code] = await closed;
    assert.equal(code, 0);
    assert.match(out, /"msg":"shutting_down"/);
    assert.match(out, /"msg":"stopped"/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
