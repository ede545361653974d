// Auth0's logout endpoint, GET /v2/logout?client_id=…&returnTo=…, for clients that have it built in
// (Auth0's SDKs). Like Auth0's, it needs no proof of the session: it ends the IdP session and
// redirects at once to a returnTo registered for the client. Because anyone can send a browser
// here, it ends only the IdP session and revokes no grant or refresh token (the clients revoke
// theirs); the hint-checked end-session endpoint does both. See docs/decisions/0006.
import type Provider from 'oidc-provider';
import { COOKIE_OPTIONS } from './defaults.ts';
import type { Logger } from './log.ts';
import { AUTH0_LOGOUT_PATH } from './routes.ts';
import { renderErrorPage, renderLoggedOutPage } from './views/logout-pages.ts';

type Ctx = Parameters<Parameters<Provider['use']>[0]>[0];

function refuse(ctx: Ctx, status: number, description: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = renderErrorPage('invalid_request', description);
}

export function auth0Logout(provider: Provider, logger: Logger): void {
  provider.use(async (ctx, next) => {
    if (ctx.path !== AUTH0_LOGOUT_PATH) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return refuse(ctx, 405, 'Use GET.');
    const query = new URLSearchParams(ctx.querystring);
    if (query.getAll('client_id').length > 1 || query.getAll('returnTo').length > 1) return refuse(ctx, 400, 'Repeated parameter.');
    const clientId = query.get('client_id');
    const returnTo = query.get('returnTo');
    const client = clientId ? await provider.Client.find(clientId).catch(() => undefined) : undefined;
    if (clientId && !client) return refuse(ctx, 400, 'Unknown client_id.');
    if (returnTo !== null) {
      // There is no tenant-wide list of logout URLs: a returnTo is checked against its client's.
      if (!client) return refuse(ctx, 400, 'returnTo needs the client_id whose logout URLs list it.');
      if (!client.postLogoutRedirectUriAllowed(returnTo)) return refuse(ctx, 400, 'returnTo is not a registered logout URL of this client.');
    }

    const cookieName = provider.cookieName('session');
    const sessionId = ctx.cookies.get(cookieName, { signed: COOKIE_OPTIONS.signed });
    const session = sessionId ? await provider.Session.find(sessionId) : undefined;
    if (session) {
      await session.destroy();
      logger.log('info', 'logout', { clientId: clientId ?? undefined, sub: session.accountId, route: 'v2_logout' });
    }
    ctx.cookies.set(cookieName, null, { ...COOKIE_OPTIONS, path: '/' });

    ctx.set('Cache-Control', 'no-store');
    if (returnTo !== null) {
      // The registered value exactly (Koa's redirect would normalise it, adding a trailing slash).
      ctx.status = 302;
      ctx.set('Location', returnTo);
    } else {
      ctx.type = 'html';
      ctx.body = renderLoggedOutPage();
    }
  });
}
