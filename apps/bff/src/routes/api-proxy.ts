// /api/* proxied to the API with the session's access token: only the configured upstream, only
// paths below /api/ (no dot segments, no encoded slash, backslash or dot, so nothing normalises
// into another path upstream), request headers from an allowlist (the browser's Cookie, any
// Authorization it sent, Origin and the CSRF header never leave), bodies and answers streamed,
// and the API's own status codes, 401 and 403 included, passed through.
import replyFrom from '@fastify/reply-from';
import type { FastifyPluginAsync } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { requireSession, type BffContext } from '../context.ts';
import { API_TIMEOUT_MS, BODY_LIMIT_BYTES, DROPPED_RESPONSE_HEADERS, FORWARDED_REQUEST_HEADERS } from '../defaults.ts';
import { sendProblem } from '../problem.ts';
import { renewalFailed } from './session.ts';

const FORBIDDEN_IN_PATH = /%2e|%2f|%5c|%00|\\|\/\.{1,2}(?:\/|$)|\/\//i;

/** The path (no query) to request upstream for a request URL, or undefined when it is refused. */
export function upstreamPath(requestUrl: string): string | undefined {
  const path = requestUrl.split('?', 1)[0]!;
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

const forwarded = new Set<string>(FORWARDED_REQUEST_HEADERS);
const dropped = new Set<string>(DROPPED_RESPONSE_HEADERS);

export const apiProxy: FastifyPluginAsync<{ ctx: BffContext }> = async (app, { ctx }) => {
  const upstream = new URL(ctx.config.BFF_API_URL);
  const basePath = upstream.pathname.replace(/\/$/, '');
  await app.register(replyFrom, {
    base: upstream.origin,
    undici: { connections: 128, pipelining: 1, headersTimeout: API_TIMEOUT_MS, bodyTimeout: API_TIMEOUT_MS },
    disableRequestLogging: true,
  });
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
    const accessToken = session.tokens.accessToken;
    return reply.from(basePath + path, {
      rewriteRequestHeaders: (_req, headers) => {
        const out: IncomingHttpHeaders = {};
        for (const [name, value] of Object.entries(headers)) if (forwarded.has(name) || name === 'host') out[name] = value as string;
        out['authorization'] = `Bearer ${accessToken}`;
        return out;
      },
      rewriteHeaders: (headers) => {
        const out: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(headers)) if (!dropped.has(name)) out[name] = value;
        return out as IncomingHttpHeaders;
      },
      onError: (_errReply, { error }) => {
        req.log.warn({ err: error.message }, 'API unreachable');
        sendProblem(reply, 502, 'The API did not answer.');
      },
    });
  });
};
