// The check that a server refuses what arrives while it drains: a request is held in flight on a
// keep-alive connection, the server is told to stop, a second request follows on that connection.
// The held one finishes normally; the second is answered 503 problem details (Retry-After, nosniff,
// not stored) and the connection closes (`refuseWhileDraining` of @suite/process-shell).
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect } from 'node:net';

export interface DrainingCase {
  server: Server;
  port: number;
  /** A request line (`GET /held`) the server holds until `release` is called. */
  held: string;
  /** Resolves once the held request has reached the server's handler. */
  arrived: Promise<void>;
  release: () => void;
  /** Tells the server to stop (emits SIGTERM at the process shell). */
  stop: () => void;
  /** The request line sent after `stop` (`GET /readyz`). */
  after: string;
}

/** Runs the case; answers the held request's status line, after asserting the refusal. */
export async function assertRefusedWhileDraining(c: DrainingCase): Promise<string> {
  const socket = connect(c.port, '127.0.0.1');
  let data = '';
  socket.on('data', (d) => { data += d.toString(); });
  const closed = new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  socket.write(`${c.held} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
  await c.arrived;
  c.stop();
  // Listened to once the server stopped, beside whatever answers it: the held request is let go
  // only once the second has reached the server, else the connection, idle again, is closed first.
  const second = new Promise<void>((resolve) => c.server.prependOnceListener('request', () => resolve()));
  socket.write(`${c.after} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`);
  await second;
  c.release();
  await closed;
  const at = data.lastIndexOf('HTTP/1.1 ');
  assert.ok(at > 0, `two answers expected, got: ${data}`);
  const [head, body] = data.slice(at).split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 503 /, c.after);
  assert.match(head!, /\r\ncontent-type: application\/problem\+json; charset=utf-8\r\n/i);
  assert.match(head!, /\r\nretry-after: \d+\r\n/i);
  assert.match(head!, /\r\nx-content-type-options: nosniff\r\n/i);
  assert.match(head!, /\r\ncache-control: no-store\r\n/i);
  assert.match(head!, /\r\nconnection: close(\r\n|$)/i);
  assert.deepEqual(Object.keys(JSON.parse(body!)), ['type', 'title', 'status', 'detail']);
  assert.equal(JSON.parse(body!).status, 503);
  return data.slice(0, data.indexOf('\r\n'));
}
