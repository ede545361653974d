// What a server answers while it drains (after SIGTERM/SIGINT): no new connection is accepted, but
// a request can still arrive on a keep-alive connection that was open (pipelined, or sent just as
// the signal came). It is refused the same way on every server of the suite, and before any app
// code runs: 503 problem details, Retry-After, nosniff, not stored, and the connection closed, so
// that the client's next attempt opens a connection to another instance. /readyz answers the
// same, so a load balancer probing on a kept-alive connection sees "not ready". Fastify's own
// answer (its return503OnClosing) is a JSON body of its own shape without Retry-After; Node's
// plain server would run the request as if nothing happened.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Seconds a client refused while a server drains is told to wait before trying again. */
export const DRAINING_RETRY_AFTER_SECONDS = 1;

const BODY = JSON.stringify({
  type: 'about:blank',
  title: 'Service Unavailable',
  status: 503,
  detail: 'The server is shutting down; try again.',
});

function answerDraining(_req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  res.writeHead(503, {
    'Content-Type': 'application/problem+json; charset=utf-8',
    'Content-Length': Buffer.byteLength(BODY),
    'Retry-After': String(DRAINING_RETRY_AFTER_SECONDS),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    Connection: 'close',
  });
  // Ended only once written: the shell's sweep of idle connections (Node's closeIdleConnections)
  // destroys a connection whose response is ended, written out or not, and this one may wait
  // behind the response in flight on the same connection.
  res.write(BODY, () => res.end());
}

/** From now on, every request `server` receives is refused as draining (requests already running go on). */
export function refuseWhileDraining(server: Server): void {
  server.removeAllListeners('request');
  server.on('request', answerDraining);
}
