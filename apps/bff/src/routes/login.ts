// The login: /bff/login starts it (state, nonce, PKCE verifier and returnTo sealed into a cookie
// of this login's own in the browser, never kept server-side: docs/decisions/0071), /bff/callback
// finishes it (the cookie named after the callback's state opened, deleted whatever the outcome,
// its state marked used once the IdP answered with tokens, the code exchanged with openid-client
// checking state, nonce and PKCE) and creates a session under a new id. A replayed, forged or
// foreign callback ends on an error page, never with a session.
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import * as oidc from 'openid-client';
import type { BffContext } from '../context.ts';
import * as d from '../defaults.ts';
import { IdpRefusedClientError } from '../idp-client.ts';
import { loginCookieName, type LoginSealer, type PendingLogin } from '../login-cookie.ts';
import { clearLoginCookie, cookieValue, cookieValues, loginCookies, SENT_TWICE, setLoginCookie, setSessionCookie } from '../plugins/session-cookie.ts';
import { LockTimeoutError } from '../sessions/session-store.ts';
import { randomId, sessionRef, sha256 } from '../sessions/session-manager.ts';
import { errorPage } from './error-page.ts';

/**
 * `returnTo` if it is a path on this origin, else '/'. Refuses absolute and scheme-relative URLs
 * (`//evil.example`, `/\evil.example`, which browsers treat alike) and control characters, in
 * what came in and in what goes out: the answer is the resolved path, and dot segments resolve
 * `/.//evil.example` (or `/%2e//`, `/x/..//`) into `//evil.example`. At most MAX_RETURN_TO_LENGTH
 * characters either way: it is kept in the login's cookie.
 */
export function safeReturnTo(value: unknown, publicUrl: string): string {
  if (typeof value !== 'string' || value.length > d.MAX_RETURN_TO_LENGTH || !isLocalPath(value)) return '/';
  let url: URL;
  try {
    url = new URL(value, publicUrl);
  } catch {
    return '/';
  }
  if (url.origin !== publicUrl) return '/';
  const target = url.pathname + url.search + url.hash;
  // Percent-encoding can make it six times longer than what came in (`é` is `%C3%A9`).
  if (target.length > d.MAX_RETURN_TO_LENGTH || !isLocalPath(target)) return '/';
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

/** The id under which a callback's state is marked used in the session store (firstUse). */
function usedStateId(state: string): string {
  return `login-state ${sha256(state)}`;
}

/**
 * The login cookies to delete before a new one is added: any sent twice or that does not open
 * (tampered, expired, another key's), and beyond the newest MAX_PENDING_LOGINS_PER_BROWSER - 1 or
 * LOGIN_COOKIES_MAX_BYTES less `room`.
 */
function loginCookiesToDelete(header: string | undefined, sealer: LoginSealer, now: number, room: number): string[] {
  const gone: string[] = [];
  const live: Array<{ name: string; bytes: number; issuedAt: number }> = [];
  for (const { name, value } of loginCookies(header)) {
    const login = value === SENT_TWICE ? undefined : sealer.open(name, value, now);
    if (login && value !== SENT_TWICE) live.push({ name, bytes: name.length + 1 + value.length, issuedAt: login.issuedAt });
    else gone.push(name);
  }
  live.sort((a, b) => b.issuedAt - a.issuedAt);
  let bytes = room;
  live.forEach((cookie, i) => {
    bytes += cookie.bytes + 2;
    if (i >= d.MAX_PENDING_LOGINS_PER_BROWSER - 1 || bytes > d.LOGIN_COOKIES_MAX_BYTES) gone.push(cookie.name);
  });
  return gone;
}

export const loginRoutes: FastifyPluginCallback<{ ctx: BffContext; sealer: LoginSealer }> = (app, { ctx, sealer }, done) => {
  app.get('/bff/login', {
    schema: { querystring: { type: 'object', properties: { returnTo: { type: 'string' } } } },
  }, async (req, reply) => {
    const returnTo = safeReturnTo((req.query as { returnTo?: string }).returnTo, ctx.config.publicUrl);
    const state = randomId();
    const nonce = randomId();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    let url: URL;
    try {
      url = await ctx.idp.authorizationUrl({ state, nonce, codeVerifier });
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, 'login impossible: identity provider unavailable');
      return errorPage(reply, 503, 'Sign-in is not available right now', 'The identity provider cannot be reached. Try again in a moment.');
    }
    const now = ctx.now();
    // Nothing written anywhere but this browser's cookie: a flood of this route takes nothing
    // that another browser's sign-in needs.
    const { name, value } = sealer.seal({ state, nonce, codeVerifier, returnTo, issuedAt: now, expiresAt: now + ctx.config.BFF_LOGIN_TTL * 1000 });
    // Other tabs' logins stay pending (each has its own cookie), up to the browser's bounds.
    for (const old of loginCookiesToDelete(req.headers.cookie, sealer, now, name.length + 1 + value.length)) clearLoginCookie(reply, old);
    setLoginCookie(reply, ctx.cookies, name, value);
    ctx.idp.warmTokenEndpoint();
    return reply.header('cache-control', 'no-store').redirect(url.href, 302);
  });

  app.get('/bff/callback', async (req, reply) => {
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const params = new URLSearchParams(query);
    const state = params.get('state');
    const fail = (reason: string, title: string, text: string): FastifyReply => {
      ctx.audit('login_failure', { reason });
      return errorPage(reply, 400, title, text);
    };
    const invalid = (reason: string) => fail(reason, 'This sign-in link is no longer valid',
      'It was already used, has expired, or was started in another browser. Start again from the app.');
    if (!state) return fail('no state', 'Sign-in failed', 'The answer from the identity provider is incomplete.');
    // Only this login's cookie is read and deleted: other tabs' logins stay pending, and a forged
    // navigation here cancels none of them.
    const name = loginCookieName(state);
    const sealed = cookieValue(req.headers.cookie, name);
    if (sealed === undefined) return invalid('no login cookie for this state (used, expired or another browser)');
    // Used once, whatever the outcome.
    clearLoginCookie(reply, name);
    if (sealed === SENT_TWICE) {
      // Which copy is this browser's cannot be told (docs/decisions/0060): refused, both deleted.
      return fail('login cookie sent twice', 'Sign-in failed', 'Your browser sent this site\'s sign-in cookie twice (another site on this host may have set one). Start again from the app.');
    }
    const now = ctx.now();
    const login = sealer.open(name, sealed, now);
    if (!login || login.state !== state) return invalid('login cookie invalid or expired');
    const idpError = params.get('error');
    if (idpError) return fail(`identity provider error: ${idpError}`, 'Sign-in was not completed', 'The identity provider did not sign you in.');
    // One callback per state at a time on every instance, and none after one that got tokens: a
    // replay (the same URL and cookie) never reaches the IdP, where a code presented twice
    // revokes what it issued. The mark is written only after the IdP answered with tokens, so a
    // request without a real sign-in leaves nothing in the store.
    let outcome: { tokens: Awaited<ReturnType<typeof ctx.idp.exchangeCode>> } | { failed: FastifyReply };
    try {
      outcome = await ctx.sessions.store.withLock(usedStateId(state), () => exchangeOnce(ctx, query, login, invalid, fail, reply),
        { ttlMs: d.CALLBACK_LOCK_TTL_MS, waitMs: d.CALLBACK_LOCK_WAIT_MS });
    } catch (err) {
      if (err instanceof LockTimeoutError) return invalid('another callback of this state in progress');
      throw err;
    }
    if ('failed' in outcome) return outcome.failed;
    const { tokens } = outcome;
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

/** Under the state's lock: refused when the state was used, else the code exchanged and the state marked used. */
async function exchangeOnce(ctx: BffContext, query: string, login: PendingLogin, invalid: (reason: string) => FastifyReply,
  fail: (reason: string, title: string, text: string) => FastifyReply, reply: FastifyReply) {
  if (await ctx.sessions.store.used(usedStateId(login.state), ctx.now())) return { failed: invalid('state already used') };
  let tokens;
  try {
    tokens = await ctx.idp.exchangeCode(query, login);
  } catch (err) {
    if (err instanceof IdpRefusedClientError) {
      // The BFF's own credentials or registration refused (logged as an error): nothing the user can change.
      ctx.audit('login_failure', { reason: `code exchange refused: ${err.error}` });
      return { failed: errorPage(reply, 503, 'Sign-in is not available right now', 'The identity provider did not accept this application. Try again later.') };
    }
    return { failed: fail(`code exchange failed: ${(err as Error).message}`, 'Sign-in failed', 'The identity provider\'s answer could not be verified. Start again from the app.') };
  }
  // Kept until the login would have expired anyway: past it the cookie no longer opens.
  await ctx.sessions.store.firstUse(usedStateId(login.state), login.expiresAt);
  return { tokens };
}
