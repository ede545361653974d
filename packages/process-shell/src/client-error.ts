// Requests Node's HTTP parser refuses before the app sees them: a malformed request line or header,
// conflicting Content-Length and Transfer-Encoding, headers over Node's size limit (431), a request
// not fully arrived within the request timeout (408). The Fastify servers (API, BFF) answer them
// like every other error of theirs (RFC 9457 problem details, nosniff, not stored), then close the
// connection; Fastify's default handler writes a JSON body of its own shape instead. Fastify's
// `clientErrorHandler` option, or a `clientError` listener of a plain Node server.
import type { Socket } from 'node:net';

const ANSWERS = {
  400: { title: 'Bad Request', detail: 'The request is malformed.' },
  408: { title: 'Request Timeout', detail: 'The request did not arrive in time.' },
  431: { title: 'Request Header Fields Too Large', detail: 'The request header fields are too large.' },
} as const;

function statusOf(code: string | undefined): keyof typeof ANSWERS {
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
    const status = statusOf(err.code);
    const { title, detail } = ANSWERS[status];
    const text = JSON.stringify({ type: 'about:blank', title, status, detail });
    socket.write(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n`
      + `Content-Length: ${Buffer.byteLength(text)}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n`
      + `Connection: close\r\n\r\n${text}`);
  }
  socket.destroy(err);
}
