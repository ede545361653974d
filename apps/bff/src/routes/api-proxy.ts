// /api/* proxied to the API with the session's access token: only the configured upstream, only
// the methods of PROXIED_METHODS (never TRACE, whose answer would echo the token), only
// paths below /api/ (no dot segments, no encoded slash, backslash or dot, so nothing normalises
// into another path upstream), request headers from an allowlist (the browser's Cookie, any
// Authorization it sent, Origin and the CSRF header never leave), bodies and answers streamed,
// and the API's own status codes, 401 and 403 included, passed through.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { ApiUpstream, connectionNamed, upstreamFailure } from '../api-upstream.ts';
import { sessionCookieSentTwice, signedOut, type BffContext } from '../context.ts';
import { SENT_TWICE, sessionCookieValue } from '../plugins/session-cookie.ts';
import { API_CONNECTIONS, API_TIMEOUT_MS, BODY_LIMIT_BYTES, FORWARDED_REQUEST_HEADERS, PROXIED_METHODS } from '../defaults.ts';
import { problem, PROBLEM_CONTENT_TYPE, sendProblem } from '../problem.ts';
import type { Session } from '../sessions/session-manager.ts';
import { renewalFailed } from './session.ts';

const proxiedMethods = new Set<string>(PROXIED_METHODS);
const ALLOW = PROXIED_METHODS.join(', ');

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

  // Not async: a session found in memory is forwarded with no promise and no await on the way.
  // A synchronous answer returns nothing (Fastify would send a returned reply again); one that
  // waits returns its promise, so that Fastify handles its failure.
  app.all('/api/*', (req, reply) => {
    if (!proxiedMethods.has(req.method)) {
      sendProblem(reply.header('allow', ALLOW), 405, `Only ${ALLOW} are forwarded to the API.`);
      return;
    }
    const path = upstreamPath(req.url);
    if (!path) {
      sendProblem(reply, 400, 'Only paths below /api/ are forwarded.');
      return;
    }
    // The body is streamed, not parsed, so Fastify's limit does not apply: announced sizes are
    // checked here, chunked bodies by the API's own limit.
    if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT_BYTES) {
      sendProblem(reply, 413, `Bodies up to ${BODY_LIMIT_BYTES} bytes are forwarded.`);
      return;
    }
    const cookie = sessionCookieValue(req);
    if (cookie === SENT_TWICE) {
      sessionCookieSentTwice(ctx, req, reply);
      return;
    }
    const loaded = ctx.sessions.load(cookie);
    const answered = loaded instanceof Promise
      ? loaded.then((session) => withSession(req, reply, path, cookie, session))
      : withSession(req, reply, path, cookie, loaded);
    return answered instanceof Promise ? answered : undefined;
  });

  function withSession(req: FastifyRequest, reply: FastifyReply, path: string, cookie: string | undefined, session: Session | undefined): FastifyReply | Promise<FastifyReply> {
    if (!session) return signedOut(ctx, reply, cookie !== undefined);
    let fresh: Session | Promise<Session>;
    try {
      fresh = ctx.sessions.withFreshAccessToken(session);
    } catch (err) {
      return renewalFailed(ctx, reply, err);
    }
    if (fresh instanceof Promise) return fresh.then((renewed) => forward(req, reply, path, renewed), (err: unknown) => renewalFailed(ctx, reply, err));
    return forward(req, reply, path, fresh);
  }

  function forward(req: FastifyRequest, reply: FastifyReply, path: string, session: Session): FastifyReply {
    // An allowlist: the browser's Cookie, any Authorization it sent, Origin and X-CSRF stay here.
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    // Nor any header the browser's Connection header names: it was for the hop to the BFF only.
    const named = connectionNamed(req.headers.connection);
    if (named) for (const name of named) delete headers[name];
    headers['authorization'] = `Bearer ${session.tokens.accessToken}`;
    const query = req.url.indexOf('?');
    reply.hijack();
    api.forward(req.raw, reply.raw, {
      method: req.method,
      path: basePath + path + (query >= 0 ? req.url.slice(query) : ''),
      headers,
      body: isReadable(req.body) ? req.body : null,
      answerHeaders: ctx.answerHeaders,
      onUnreachable: (err) => {
        const { status, detail } = upstreamFailure(err);
        req.log.warn({ err: err.message, status }, 'API unreachable');
        const body = JSON.stringify(problem(status, detail));
        reply.raw.writeHead(status, { ...ctx.answerHeaders, 'cache-control': 'no-store', 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
        reply.raw.end(body);
      },
    });
    return reply;
  }
};

function isReadable(body: unknown): body is Readable {
  return typeof (body as Readable | undefined)?.pipe === 'function';
}
