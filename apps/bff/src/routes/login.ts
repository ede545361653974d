// The login: /bff/login starts it (state, nonce and PKCE verifier kept server-side under the
// state, bound to this browser by a short-lived cookie shared by all its pending logins, so two
// tabs may sign in at once), /bff/callback finishes it (the login record is taken exactly once,
// the code exchanged with openid-client checking state, nonce and PKCE) and creates a session
// under a new id. A replayed, forged or foreign callback ends on an error page, never with a
// session.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import * as oidc from 'openid-client';
import type { BffContext } from '../context.ts';
import * as d from '../defaults.ts';
import { IdpRefusedClientError } from '../idp-client.ts';
import { clearLoginCookie, cookieValues, loginCookieValue, SENT_TWICE, setLoginCookie, setSessionCookie } from '../plugins/session-cookie.ts';
import { randomId, sessionRef, sha256 } from '../sessions/session-manager.ts';
import { errorPage } from './error-page.ts';

const MAX_RETURN_TO_LENGTH = 2048;
/** What randomId() makes: 256 bits, base64url. */
const RANDOM_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * `returnTo` if it is a path on this origin, else '/'. Refuses absolute and scheme-relative URLs
 * (`//evil.example`, `/\evil.example`, which browsers treat alike) and control characters, in
 * what came in and in what goes out: the answer is the resolved path, and dot segments resolve
 * `/.//evil.example` (or `/%2e//`, `/x/..//`) into `//evil.example`.
 */
export function safeReturnTo(value: unknown, publicUrl: string): string {
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO_LENGTH || !isLocalPath(value)) return '/';
  let url: URL;
  try {
    url = new URL(value, publicUrl);
  } catch {
    return '/';
  }
  if (url.origin !== publicUrl) return '/';
  const target = url.pathname + url.search + url.hash;
  if (!isLocalPath(target)) return '/';
  // Never back into the login machinery, in any spelling the router decodes (`/%62ff/login`).
  if (isBffPath(url.pathname)) return '/';
  return target;
}

/** A path of this origin: one leading slash, no backslash, no control character. */
function isLocalPath(value: string): boolean {
  return value.startsWith('/') && !value.startsWith('//') && !/[\u0000-\u001f\u007f\\]/.test(value);
}

/** `/bff` or below it once decoded, in any case; a path that cannot be decoded counts as one. */
function isBffPath(pathname: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname).toLowerCase();
  } catch {
    return true;
  }
  return decoded === '/bff' || decoded.startsWith('/bff/');
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Counts logins refused because the store is full and logs them at most once per interval (a flood
 * must not become a flood of log lines): the first refusal at once, then, with the first refusal
 * after the interval, how many there were since the last line.
 */
class RefusedLogins {
  #count = 0;
  #loggedAt = -Infinity;

  refused(now: number, log: (count: number) => void): void {
    this.#count++;
    if (now - this.#loggedAt < d.LOGINS_FULL_LOG_INTERVAL_SECONDS * 1000) return;
    log(this.#count);
    this.#loggedAt = now;
    this.#count = 0;
  }
}

export const loginRoutes: FastifyPluginCallback<{ ctx: BffContext }> = (app, { ctx }, done) => {
  const refusedLogins = new RefusedLogins();
  app.get('/bff/login', {
    schema: { querystring: { type: 'object', properties: { returnTo: { type: 'string' } } } },
  }, async (req, reply) => {
    const returnTo = safeReturnTo((req.query as { returnTo?: string }).returnTo, ctx.config.publicUrl);
    const state = randomId();
    const nonce = randomId();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    // One binding per browser, not per login: a login started in a second tab keeps the first
    // tab's pending login valid (a new value would replace the cookie the first callback needs).
    // A login cookie sent twice binds nothing: a new one replaces both (setLoginCookie).
    const current = loginCookieValue(req);
    const binding = typeof current === 'string' && RANDOM_ID.test(current) ? current : randomId();
    let url: URL;
    try {
      url = await ctx.idp.authorizationUrl({ state, nonce, codeVerifier });
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, 'login impossible: identity provider unavailable');
      return errorPage(reply, 503, 'Sign-in is not available right now', 'The identity provider cannot be reached. Try again in a moment.');
    }
    const now = ctx.now();
    const saved = await ctx.sessions.store.saveLogin({
      state, nonce, codeVerifier, returnTo, binding: sha256(binding),
      expiresAt: now + ctx.config.BFF_LOGIN_TTL * 1000,
    }, now, { total: ctx.config.BFF_MAX_PENDING_LOGINS, perBinding: d.MAX_PENDING_LOGINS_PER_BROWSER });
    if (!saved) {
      refusedLogins.refused(now, (count) => req.log.warn({ refused: count, pending: ctx.config.BFF_MAX_PENDING_LOGINS },
        'logins refused: the store holds BFF_MAX_PENDING_LOGINS pending logins (a flood of /bff/login?)'));
      return errorPage(reply.header('retry-after', String(d.LOGINS_FULL_RETRY_AFTER_SECONDS)), 503, 'Sign-in is busy right now', 'Too many sign-ins are in progress. Try again in a minute.');
    }
    setLoginCookie(reply, ctx.cookies, binding);
    ctx.idp.warmTokenEndpoint();
    return reply.header('cache-control', 'no-store').redirect(url.href, 302);
  });

  app.get('/bff/callback', async (req, reply) => {
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const params = new URLSearchParams(query);
    const state = params.get('state');
    // The login cookie stays until its Max-Age: it binds every login this browser has pending
    // (other tabs), and a forged navigation here must not cancel them.
    const binding = loginCookieValue(req);
    const fail = (reason: string, title: string, text: string): FastifyReply => {
      ctx.audit('login_failure', { reason });
      return errorPage(reply, 400, title, text);
    };
    if (!state) return fail('no state', 'Sign-in failed', 'The answer from the identity provider is incomplete.');
    const login = await ctx.sessions.store.takeLogin(state, ctx.now());
    if (!login) return fail('unknown, used or expired state', 'This sign-in link is no longer valid', 'It was already used or has expired. Start again from the app.');
    if (binding === SENT_TWICE) {
      // Which copy bound this login cannot be told (docs/decisions/0060): refused, both deleted.
      clearLoginCookie(reply);
      return fail('login cookie sent twice', 'Sign-in failed', 'Your browser sent this site\'s sign-in cookie twice (another site on this host may have set one). Start again from the app.');
    }
    if (!binding || !sameHash(sha256(binding), login.binding)) {
      return fail('state not started by this browser', 'Sign-in failed', 'This sign-in was not started in this browser. Start again from the app.');
    }
    const idpError = params.get('error');
    if (idpError) return fail(`identity provider error: ${idpError}`, 'Sign-in was not completed', 'The identity provider did not sign you in.');
    let tokens;
    try {
      tokens = await ctx.idp.exchangeCode(query, login);
    } catch (err) {
      if (err instanceof IdpRefusedClientError) {
        // The BFF's own credentials or registration refused (logged as an error): nothing the user can change.
        ctx.audit('login_failure', { reason: `code exchange refused: ${err.error}` });
        return errorPage(reply, 503, 'Sign-in is not available right now', 'The identity provider did not accept this application. Try again later.');
      }
      return fail(`code exchange failed: ${(err as Error).message}`, 'Sign-in failed', 'The identity provider\'s answer could not be verified. Start again from the app.');
    }
    // A browser that was signed in already gets a new session, never the old one's id; a session
    // cookie sent twice ends the session of each copy (the new cookie replaces both).
    for (const previous of cookieValues(req.headers.cookie, d.SESSION_COOKIE)) if (previous) await ctx.sessions.destroy(sha256(previous));
    const { id, session } = await ctx.sessions.create(tokens);
    setSessionCookie(reply, ctx.cookies, id);
    ctx.audit('login', { session: sessionRef(session.key), sub: session.sub, sid: session.sid !== null, refreshToken: session.tokens.refreshToken !== undefined });
    return reply.header('cache-control', 'no-store').redirect(login.returnTo, 302);
  });
  done();
};
