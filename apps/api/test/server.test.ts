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
import { buildApi, loggerOptions } from '../src/app.ts';
import { readApiConfig } from '../src/config.ts';
import { startTestIssuer, type TestIssuer } from './support/test-issuer.ts';

let idp: TestIssuer;
before(async () => { idp = await startTestIssuer(); });
after(async () => { await idp.close(); });

function rawRequest(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${lines.join('\r\n')}\r\n\r\n`));
    let data = '';
    socket.on('data', (d) => { data += d.toString(); });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

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

const SERVER = join(import.meta.dirname, '..', 'src', 'server.ts');

test('bad configuration: the server refuses to start and names the variable', async () => {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, AUTH_ALGORITHMS: 'HS256', API_CORS_ORIGINS: 'http://x/path' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => { out += d; });
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 2);
  assert.match(out, /AUTH_ALGORITHMS/);
  assert.match(out, /API_CORS_ORIGINS/);
});

test('the server process: ready once the issuer is loaded, stops gracefully on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const portProbe = buildApi(readApiConfig({ AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir }), { logger: false });
  await portProbe.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (portProbe.app.server.address() as { port: number }).port;
  await portProbe.app.close();
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, API_PORT: String(port), AUTH_AUTHORITY: idp.issuer, API_DATA_DIR: dir, API_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  try {
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      await sleep(100);
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    }
    assert.ok(ready, `not ready: ${out}`);
    const res = await fetch(`http://127.0.0.1:${port}/api/UserOne`, { headers: { authorization: `Bearer ${await idp.sign()}` } });
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
    assert.match(out, /"msg":"shutting_down"/);
    assert.match(out, /"msg":"stopped"/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
