// /api/* proxied to the API with the session's access token: only the configured upstream, only
// paths below /api/ (no dot segments, no encoded slash, backslash or dot, so nothing normalises
// into another path upstream), request headers from an allowlist (the browser's Cookie, any
// Authorization it sent, Origin and the CSRF header never leave), bodies and answers streamed,
// and the API's own status codes, 401 and 403 included, passed through.
import type { FastifyPluginAsync } from 'fastify';
import type { Readable } from 'node:stream';
import { ApiUpstream } from '../api-upstream.ts';
import { requireSession, type BffContext } from '../context.ts';
import { ANSWER_HEADERS, API_CONNECTIONS, API_TIMEOUT_MS, BODY_LIMIT_BYTES, FORWARDED_REQUEST_HEADERS } from '../defaults.ts';
import { problem, PROBLEM_CONTENT_TYPE, sendProblem } from '../problem.ts';
import { renewalFailed } from './session.ts';

const FORBIDDEN_IN_PATH = /%2e|%2f|%5c|%00|\\|\/\.{1,2}(?:\/|$)|\/\//i;

/** Paths already judged (up to 1,000 of up to 256 characters), so a repeated call does not decode and parse its path again. */
const judged = new Map<string, string | undefined>();
const JUDGED_PATHS = 1000;
const JUDGED_PATH_LENGTH = 256;

/** The path (no query) to request upstream for a request URL, or undefined when it is refused. */
export function upstreamPath(requestUrl: string): string | undefined {
  const query = requestUrl.indexOf('?');
  const path = query < 0 ? requestUrl : requestUrl.slice(0, query);
  if (judged.has(path)) return judged.get(path);
  const verdict = judgePath(path);
  if (path.length <= JUDGED_PATH_LENGTH) {
    if (judged.size >= JUDGED_PATHS) judged.delete(judged.keys().next().value!);
    judged.set(path, verdict);
  }
  return verdict;
}

function judgePath(path: string): string | undefined {
  if (!path.startsWith('/api/') || FORBIDDEN_IN_PATH.test(path)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (FORBIDDEN_IN_PATH.test(decoded) || /[\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  // What a URL parser makes of it must be the path itself: nothing was resolved away.
  if (new URL(path, 'http://upstream.invalid').pathname !== path) return undefined;
  return path;
}

export const apiProxy: FastifyPluginAsync<{ ctx: BffContext }> = async (app, { ctx }) => {
  const upstream = new URL(ctx.config.BFF_API_URL);
  const basePath = upstream.pathname.replace(/\/$/, '');
  const api = new ApiUpstream(upstream.origin, { connections: API_CONNECTIONS, timeoutMs: API_TIMEOUT_MS });
  app.addHook('onClose', () => api.close());
  // Bodies are streamed to the API as they come, not parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.all('/api/*', async (req, reply) => {
    const path = upstreamPath(req.url);
    if (!path) return sendProblem(reply, 400, 'Only paths below /api/ are forwarded.');
    // The body is streamed, not parsed, so Fastify's limit does not apply: announced sizes are
    // checked here, chunked bodies by the API's own limit.
    if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT_BYTES) return sendProblem(reply, 413, `Bodies up to ${BODY_LIMIT_BYTES} bytes are forwarded.`);
    let session = await requireSession(ctx, req, reply);
    if (!session) return reply;
    try {
      session = await ctx.sessions.withFreshAccessToken(session);
    } catch (err) {
      return renewalFailed(ctx, reply, err);
    }
    // An allowlist: the browser's Cookie, any Authorization it sent, Origin and X-CSRF stay here.
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    headers['authorization'] = `Bearer ${session.tokens.accessToken}`;
    const query = req.url.indexOf('?');
    reply.hijack();
    api.forward(req.raw, reply.raw, {
      method: req.method,
      path: basePath + path + (query >= 0 ? req.url.slice(query) : ''),
      headers,
      body: isReadable(req.body) ? req.body : null,
      answerHeaders: ANSWER_HEADERS,
      onUnreachable: (err) => {
        req.log.warn({ err: err.message }, 'API unreachable');
        const body = JSON.stringify(problem(502, 'The API did not answer.'));
        reply.raw.writeHead(502, { ...ANSWER_HEADERS, 'cache-control': 'no-store', 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
        reply.raw.end(body);
      },
    });
    return reply;
  });
};

function isReadable(body: unknown): body is Readable {
  return typeof (body as Readable | undefined)?.pipe === 'function';
}
