// What the route plugins share: configuration, the IdP client, the sessions and the audit log.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BffConfig } from './config.ts';
import type { IdpClient } from './idp-client.ts';
import { clearSessionCookie, sessionCookieValue, type CookiePolicy } from './plugins/session-cookie.ts';
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
 * live session).
 */
export async function requireSession(ctx: BffContext, req: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> {
  const cookie = sessionCookieValue(req);
  const session = await ctx.sessions.load(cookie);
  if (session) return session;
  signedOut(ctx, reply, cookie !== undefined);
  return undefined;
}

export function signedOut(ctx: BffContext, reply: FastifyReply, clearCookie = true): FastifyReply {
  if (clearCookie) clearSessionCookie(reply, ctx.cookies);
  return sendProblem(reply, 401, 'Not signed in.');
}
