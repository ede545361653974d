// The signed-in user and the session's timeline (/bff/user), a renewal on demand (/bff/renew) and
// the logout (/bff/logout). No answer ever carries a token.
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { requireSession, signedOut, type BffContext } from '../context.ts';
import { IdpRefusedClientError, IdpUnavailableError } from '../idp-client.ts';
import { clearSessionCookie, cookieValues, SENT_TWICE, sessionCookieValue } from '../plugins/session-cookie.ts';
import * as d from '../defaults.ts';
import { sendProblem } from '../problem.ts';
import { LockTimeoutError } from '../sessions/session-store.ts';
import { SessionEndedError, sessionRef, sha256, type Session, type SessionManager } from '../sessions/session-manager.ts';

/** The /bff/user body (the contract with the SPA's BFF mode). */
export function describeSession(sessions: SessionManager, s: Session): Record<string, unknown> {
  const claims = s.claims;
  return {
    sub: s.sub,
    name: typeof claims['name'] === 'string' ? claims['name'] : s.sub,
    ...(typeof claims['email'] === 'string' ? { email: claims['email'] } : {}),
    claims,
    scopes: s.scopes,
    loggedInAt: s.createdAt,
    sessionExpiresAt: Math.min(s.idleExpiresAt, s.absoluteExpiresAt),
    accessTokenIssuedAt: s.accessTokenIssuedAt,
    accessTokenExpiresAt: s.accessTokenExpiresAt,
    renewsAt: sessions.renewsAt(s),
    lastRenewal: s.lastRenewal,
  };
}

/**
 * Maps a failed renewal to its answer: 401 when the session is over, 503 when the IdP is away or
 * refuses the BFF itself (a misconfiguration, logged as an error: the session is kept), or another
 * instance's renewal of the same session holds the lock past the wait.
 */
export function renewalFailed(ctx: BffContext, reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof SessionEndedError) return signedOut(ctx, reply);
  if (err instanceof IdpRefusedClientError) return sendProblem(reply.header('retry-after', String(d.IDP_REFUSED_RETRY_AFTER_SECONDS)), 503, 'The session cannot be renewed right now; try again later.');
  if (err instanceof IdpUnavailableError) return sendProblem(reply.header('retry-after', '5'), 503, 'The identity provider is not answering; try again shortly.');
  if (err instanceof LockTimeoutError) return sendProblem(reply.header('retry-after', '1'), 503, 'The session is being renewed; try again shortly.');
  throw err;
}

export const sessionRoutes: FastifyPluginCallback<{ ctx: BffContext }> = (app, { ctx }, done) => {
  app.get('/bff/user', async (req, reply) => {
    const session = await requireSession(ctx, req, reply);
    if (!session) return reply;
    return reply.header('cache-control', 'no-store').send(describeSession(ctx.sessions, session));
  });

  app.post('/bff/renew', async (req, reply) => {
    const session = await requireSession(ctx, req, reply);
    if (!session) return reply;
    try {
      const renewed = await ctx.sessions.renewNow(session);
      return reply.header('cache-control', 'no-store').send(describeSession(ctx.sessions, renewed));
    } catch (err) {
      return renewalFailed(ctx, reply, err);
    }
  });

  app.post('/bff/logout', async (req, reply) => {
    const sent = sessionCookieValue(req);
    clearSessionCookie(reply, ctx.cookies);
    const fallback = ctx.config.publicUrl + '/';
    if (sent === SENT_TWICE) {
      // Which copy is the user's cannot be told: every session named ends, and the IdP asks the
      // user whether to sign out there (no ID token hint of either).
      ctx.audit('cookie_sent_twice', { cookie: d.SESSION_COOKIE, method: req.method, path: req.url.split('?', 1)[0] });
      for (const value of cookieValues(req.headers.cookie, d.SESSION_COOKIE)) await ctx.sessions.destroy(sha256(value));
    }
    const cookie = sent === SENT_TWICE ? undefined : sent;
    const session = cookie ? await ctx.sessions.destroy(sha256(cookie)) : undefined;
    if (!session) {
      // No session here (ended by an earlier logout whose answer was lost to a crash or a broken
      // connection, or expired): the IdP's session may still live, and only the IdP can end it
      // now, without a hint, so it asks the user; its confirmed logout revokes the grants too.
      let redirectTo = fallback;
      try {
        redirectTo = (await ctx.idp.endSessionUrl(undefined, ctx.config.postLogoutRedirectUri)) ?? fallback;
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'no end-session URL at logout');
      }
      ctx.audit('logout', { session: null, endSession: redirectTo !== fallback });
      return reply.header('cache-control', 'no-store').send({ redirectTo });
    }
    const ref = sessionRef(session.key);
    let revoked: boolean | 'pending' = false;
    if (session.tokens.refreshToken) {
      const revocation = ctx.idp.revokeRefreshToken(session.tokens.refreshToken).then(() => true, (err: Error) => {
        // The session is gone here anyway; the refresh token expires at the IdP on its own.
        req.log.warn({ session: ref, err: err.message }, 'refresh-token revocation failed at logout');
        return false;
      });
      revoked = await Promise.race([revocation, ctx.wait(d.LOGOUT_REVOCATION_WAIT_MS).then(() => 'pending' as const)]);
      if (revoked === 'pending') {
        req.log.warn({ session: ref, waitedMs: d.LOGOUT_REVOCATION_WAIT_MS }, 'refresh-token revocation not answered in time at logout; it goes on');
        void revocation.then((done) => { if (done) req.log.info({ session: ref }, 'refresh-token revocation answered after logout'); });
      }
    }
    let redirectTo = fallback;
    try {
      redirectTo = (await ctx.idp.endSessionUrl({ idToken: session.tokens.idToken, sid: session.sid }, ctx.config.postLogoutRedirectUri)) ?? fallback;
    } catch (err) {
      req.log.warn({ session: ref, err: (err as Error).message }, 'no end-session URL at logout');
    }
    ctx.audit('logout', { session: ref, sub: session.sub, refreshTokenRevoked: revoked, endSession: redirectTo !== fallback });
    return reply.header('cache-control', 'no-store').send({ redirectTo });
  });
  done();
};
