// CSRF defence: every /api/* call and every /bff/* call except the top-level navigations of the
// login (login, callback) and the IdP's server-to-server back-channel call must carry
// `X-CSRF: 1`. A page on another origin can only add a custom header through CORS, which this
// server never answers (no Access-Control-* header anywhere), so its request is refused here
// before any session is looked at; a plain HTML form cannot set headers at all. The session
// cookie's SameSite is a second, independent barrier.
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import { CSRF_EXEMPT_PATHS, CSRF_HEADER, CSRF_HEADER_VALUE } from '../defaults.ts';
import { sendProblem } from '../problem.ts';

export interface CsrfOptions {
  audit: (event: string, fields: Record<string, unknown>) => void;
}

const exempt = new Set<string>(CSRF_EXEMPT_PATHS);

/** Whether a request path (no query) needs the CSRF header. */
export function needsCsrfHeader(path: string): boolean {
  const lower = path.toLowerCase();
  if (lower === '/api' || lower.startsWith('/api/')) return true;
  if (lower === '/bff' || lower.startsWith('/bff/')) return !exempt.has(lower);
  return false;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

const csrf: FastifyPluginCallback<CsrfOptions> = (app, { audit }, done) => {
  app.addHook('onRequest', (req, reply, next) => {
    // With the header any path may pass, so the path is only judged without it.
    if (req.headers[CSRF_HEADER] === CSRF_HEADER_VALUE) return next();
    const path = req.url.split('?', 1)[0]!;
    // The matched route as well as the path: an encoded path (/%62ff/user) routes like its decoded form.
    const route = req.routeOptions.url;
    if (!needsCsrfHeader(path) && !needsCsrfHeader(safeDecode(path)) && (route === undefined || !needsCsrfHeader(route))) return next();
    audit('csrf_refused', { method: req.method, path, origin: req.headers.origin ?? null });
    sendProblem(reply, 403, `The request must carry the header X-CSRF: ${CSRF_HEADER_VALUE}.`);
  });
  done();
};

export default fp(csrf, { name: 'csrf', fastify: '5.x' });
