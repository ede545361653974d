import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { EXIT_CODES, runServer, type HttpTimeouts, type RunServerOptions } from '../src/index.ts';
import { assertRefusedWhileDraining } from '../../../tests/support/draining.ts';

/**
 * The timeouts of every server here but the one that tests them. Node checks them on a timer from
 * the moment it accepts a connection: a stall of the test process longer than the headers timeout
 * between accepting a request and reading its headers (a loaded machine) answers it 408, so they
 * are as long as in production.
 */
const TIMEOUTS: HttpTimeouts = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 60_000 };
/** Short, for the test of the request timeout itself (where a 408 is the expected answer). */
const SHORT_TIMEOUTS: HttpTimeouts = { requestTimeout: 400, headersTimeout: 200, keepAliveTimeout: 60_000 };

interface Harness {
  port: number;
  signals: EventEmitter;
  exitCode: Promise<number>;
  events: string[];
}

/** Servers and processes a test started: ended after it whatever happened, so that the test process can end. */
const servers: Server[] = [];
const processes: ChildProcess[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  for (const proc of processes.splice(0)) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
});

async function start(server: Server, options: Partial<RunServerOptions> = {}): Promise<Harness> {
  servers.push(server);
  const signals = new EventEmitter();
  const events: string[] = [];
  let onExit!: (code: number) => void;
  const exitCode = new Promise<number>((resolve) => (onExit = resolve));
  const running = await runServer({
    app: 'test', server, port: 0, host: '127.0.0.1', timeouts: TIMEOUTS, shutdownGraceMs: 30_000,
    log: (_level, event) => events.push(event), signals, exit: onExit, ...options,
  });
  return { port: running.port, signals, exitCode, events };
}

/** A handler that holds every request until `release()` is called. */
function gatedServer(): { server: Server; arrived: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const arrivedP = new Promise<void>((resolve) => (arrived = resolve));
  const server = createServer((_req, res) => {
    arrived();
    void gate.then(() => res.end('done'));
  });
  return { server, arrived: arrivedP, release };
}

function get(port: number, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

test('a body trickling in slower than the request timeout gets 408 and the connection is dropped', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('read'));
  });
  const h = await start(server, { timeouts: SHORT_TIMEOUTS });
  const socket = connect(h.port, '127.0.0.1');
  socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
  // At 20 ms a byte the body would take 20 s; the server reads it all and answers 200 if nothing stops it.
  const trickle = setInterval(() => socket.writable && socket.write('a'), 20);
  let answer = '';
  let reset = false;
  socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
  socket.on('error', (err: NodeJS.ErrnoException) => (reset = err.code === 'ECONNRESET'));
  await new Promise((resolve) => socket.on('close', resolve)).finally(() => clearInterval(trickle));
  // The 408 is written, then the connection dropped; bytes still arriving from us can make the
  // kernel reset it before we read the 408.
  if (reset && answer === '') return;
  assert.match(answer, /^HTTP\/1\.1 408/);
});

test('a request within the timeouts is answered', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('read'));
  });
  const h = await start(server);
  assert.deepEqual(await get(h.port), { status: 200, body: 'read' });
});

test('SIGTERM stops accepting, lets the in-flight request finish on its keep-alive connection, releases, exits 0', async () => {
  const { server, arrived, release } = gatedServer();
  const released: string[] = [];
  const h = await start(server, { release: () => void released.push('released') });
  const agent = new Agent({ keepAlive: true });
  const inFlight = get(h.port, agent);
  await arrived;
  h.signals.emit('SIGTERM');
  await assert.rejects(get(h.port), { code: 'ECONNREFUSED' });
  assert.deepEqual(released, [], 'nothing is released while a request runs');
  release();
  assert.deepEqual(await inFlight, { status: 200, body: 'done' });
  // The keep-alive connection would otherwise hold the process for keepAliveTimeout (60 s here),
  // past the grace period, and the exit code would be 1.
  assert.equal(await h.exitCode, EXIT_CODES.stopped);
  assert.deepEqual(released, ['released']);
  assert.deepEqual(h.events, ['listening', 'shutting_down', 'stopped']);
  agent.destroy();
});

test('a request arriving on an open connection while draining is refused as problem details, the one in flight finishes', async () => {
  const { server, arrived, release } = gatedServer();
  const h = await start(server);
  const first = await assertRefusedWhileDraining({
    server, port: h.port, held: 'GET /work', arrived, release, after: 'GET /readyz', stop: () => h.signals.emit('SIGTERM'),
  });
  assert.match(first, /^HTTP\/1\.1 200 /);
  assert.equal(await h.exitCode, EXIT_CODES.stopped);
});

test('the same signal a second time while draining closes every connection and exits 1', async () => {
  const { server, arrived } = gatedServer();
  const h = await start(server);
  const inFlight = get(h.port);
  await arrived;
  h.signals.emit('SIGTERM');
  h.signals.emit('SIGTERM');
  assert.equal(await h.exitCode, EXIT_CODES.failed);
  await assert.rejects(inFlight, { code: 'ECONNRESET' });
  assert.ok(h.events.includes('shutdown_forced'));
});

test('SIGINT then SIGTERM (Ctrl-C under a supervisor) keeps draining and exits 0', async () => {
  const { server, arrived, release } = gatedServer();
  const h = await start(server);
  const inFlight = get(h.port);
  await arrived;
  h.signals.emit('SIGINT');
  h.signals.emit('SIGTERM');
  release();
  assert.deepEqual(await inFlight, { status: 200, body: 'done' });
  assert.equal(await h.exitCode, EXIT_CODES.stopped);
});

test('when the grace period runs out the process exits 1 even though a request still runs', async () => {
  const { server, arrived } = gatedServer();
  const h = await start(server, { shutdownGraceMs: 50 });
  const inFlight = get(h.port).catch((err: Error) => err);
  await arrived;
  h.signals.emit('SIGTERM');
  assert.equal(await h.exitCode, EXIT_CODES.failed);
  assert.ok(h.events.includes('shutdown_grace_expired'));
  assert.ok((await inFlight) instanceof Error);
});

test('a release that fails exits 1', async () => {
  const h = await start(createServer(), { release: () => Promise.reject(new Error('database busy')) });
  h.signals.emit('SIGTERM');
  assert.equal(await h.exitCode, EXIT_CODES.failed);
  assert.ok(h.events.includes('shutdown_failed'));
});

test('a port already in use exits 1 with a log line', async () => {
  const taken = createServer();
  servers.push(taken);
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as { port: number }).port;
  const events: string[] = [];
  let code: number | undefined;
  await assert.rejects(runServer({
    app: 'test', server: createServer(), port, host: '127.0.0.1', timeouts: TIMEOUTS, shutdownGraceMs: 1000,
    log: (_l, event) => events.push(event), signals: new EventEmitter(), exit: (c) => (code = c),
  }), { code: 'EADDRINUSE' });
  assert.equal(code, EXIT_CODES.failed);
  assert.deepEqual(events, ['cannot_listen']);
  taken.close();
});

test('a real process: SIGTERM exits 0; SIGINT twice with a request in flight exits 1', async () => {
  async function child() {
    const proc = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'hanging-server.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    processes.push(proc);
    const exited = once(proc, 'exit').then(([code]) => code as number | null);
    let out = '';
    const waiters: Array<() => void> = [];
    const onData = (d: string) => {
      out += d;
      for (const w of waiters.splice(0)) w();
    };
    proc.stdout.setEncoding('utf8').on('data', onData);
    proc.stderr.setEncoding('utf8').on('data', onData);
    /** Resolves once an output line has the given event. */
    const logged = async (event: string): Promise<string> => {
      const pattern = new RegExp(`"event":"${event}"[^\n]*`);
      while (!pattern.test(out)) await new Promise<void>((resolve) => waiters.push(resolve));
      return pattern.exec(out)![0];
    };
    const port = Number(/"port":(\d+)/.exec(await logged('listening'))![1]);
    return { port, exited, logged, kill: (s: NodeJS.Signals) => proc.kill(s) };
  }
  const quiet = await child();
  quiet.kill('SIGTERM');
  assert.equal(await quiet.exited, EXIT_CODES.stopped);

  const busy = await child();
  const inFlight = get(busy.port).catch((err: Error) => err);
  // The fixture answers /ready at once; the request to / hangs forever.
  await new Promise((resolve) => request({ host: '127.0.0.1', port: busy.port, path: '/ready' }, resolve).end());
  busy.kill('SIGINT');
  // Two signals sent back to back may reach the process as one.
  await busy.logged('shutting_down');
  busy.kill('SIGINT');
  assert.equal(await busy.exited, EXIT_CODES.failed);
  await busy.logged('shutdown_forced');
  assert.ok((await inFlight) instanceof Error);
});
