// The HTML page a failed login ends on: what happened, and a way back. No script, no style.
import type { FastifyReply } from 'fastify';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function errorPage(reply: FastifyReply, status: number, title: string, text: string): FastifyReply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1><p>${escape(text)}</p><p><a href="/">Back to the app</a></p></main></body></html>
`;
  return reply.code(status)
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    .type('text/html; charset=utf-8')
    .send(html);
}
