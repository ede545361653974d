// What the route plugins share: configuration, the IdP client, the sessions and the audit log.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BffConfig } from './config.ts';
import type { IdpClient } from './idp-client.ts';
import { clearSessionCookie, SENT_TWICE, sessionCookieValue, type CookiePolicy } from './plugins/session-cookie.ts';
import { SESSION_COOKIE } from './defaults.ts';
import { sendProblem } from './problem.ts';
import type { AuditLog, Session, SessionManager } from './sessions/session-manager.ts';

export interface BffContext {
  config: BffConfig;
  idp: IdpClient;
  sessions: SessionManager;
  cookies: CookiePolicy;
  /** Headers of every answer of the BFF itself and of every API answer it forwards (answerHeaders in defaults.ts). */
  answerHeaders: Readonly<Record<string, string>>;
  audit: AuditLog;
  now: () => number;
  /** Resolves after `ms` milliseconds (tests end it when they choose). */
  wait: (ms: number) => Promise<void>;
}

/**
 * The request's session, or undefined after answering 401 (and clearing a cookie that names no
 * live session, or that was sent twice).
 */
export async function requireSession(ctx: BffContext, req: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> {
  const cookie = sessionCookieValue(req);
  if (cookie === SENT_TWICE) {
    sessionCookieSentTwice(ctx, req, reply);
    return undefined;
  }
  const session = await ctx.sessions.load(cookie);
  if (session) return session;
  signedOut(ctx, reply, cookie !== undefined);
  return undefined;
}

/**
 * A request carrying the session cookie twice (docs/decisions/0060): neither copy is used, both are
 * deleted, and the browser is answered as signed out. The session named by our copy lives on
 * until its idle timeout (no one can name it any more) or a logout, which ends every copy's.
 */
export function sessionCookieSentTwice(ctx: BffContext, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  ctx.audit('cookie_sent_twice', { cookie: SESSION_COOKIE, method: req.method, path: req.url.split('?', 1)[0] });
  clearSessionCookie(reply, ctx.cookies);
  return sendProblem(reply, 401, 'Not signed in: the browser sent the session cookie twice (another site on this host may have set one).');
}

export function signedOut(ctx: BffContext, reply: FastifyReply, clearCookie = true): FastifyReply {
  if (clearCookie) clearSessionCookie(reply, ctx.cookies);
  return sendProblem(reply, 401, 'Not signed in.');
}
