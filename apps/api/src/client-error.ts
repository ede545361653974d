// Requests Node's HTTP parser refuses before Fastify sees them: a malformed request line or header,
// conflicting Content-Length and Transfer-Encoding, headers over Node's size limit (431), a request
// not fully arrived within API_REQUEST_TIMEOUT (408). They are answered like every other error
// (RFC 9457 problem details, nosniff), then the connection is closed. Fastify's default handler
// writes a JSON body of its own shape instead. Fastify's `clientErrorHandler` option.
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, problem } from './problem.ts';

const DETAILS: Record<number, string> = {
  400: 'The request is malformed.',
  408: 'The request did not arrive in time.',
  431: 'The request header fields are too large.',
};

function statusOf(code: string | undefined): 400 | 408 | 431 {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already begun on this connection (a refusal sent before its body arrived) cannot be
  // followed by another: Node's own handler checks the same.
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !current?.headersSent) {
    const body = problem(statusOf(err.code), DETAILS[statusOf(err.code)]);
    const text = JSON.stringify(body);
    socket.write(`HTTP/1.1 ${body.status} ${body.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n`
      + `Content-Length: ${Buffer.byteLength(text)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${text}`);
  }
  socket.destroy(err);
}
