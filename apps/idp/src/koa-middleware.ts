// Middleware run by oidc-provider's Koa app around its own routes.
import { AsyncLocalStorage } from 'node:async_hooks';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { STORE_UNAVAILABLE_RETRY_AFTER_SECONDS, WEB_MESSAGE_ROUTES } from './defaults.ts';
import type { Logger } from './log.ts';
import { END_SESSION_CONFIRM_PATH, ROUTES } from './routes.ts';
import { ReplayDetected } from './storage/replay-detected.ts';
import { StoreUnavailableError, type Store } from './storage/store.ts';

/**
 * A store outage answers 503 with Retry-After on every route, not a 500: oidc-provider's own
 * routes render StoreUnavailableError with its 503 status; anything thrown outside them (our
 * middleware) is answered here. Registered first, so it wraps every other middleware.
 */
export function answerStoreOutages(provider: Provider): void {
  provider.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      ctx.status = 503;
      ctx.body = { error: err.error, error_description: err.error_description };
    }
    if (ctx.status === 503) ctx.set('Retry-After', String(STORE_UNAVAILABLE_RETRY_AFTER_SECONDS));
  });
}

/**
 * The one origin allowed to frame this answer, if it is a web_message answer: oidc-provider's
 * web_message page (a popup's or a hidden iframe's answer, code or error, posted to the redirect
 * URI's origin) is the only response that comes back without the X-Frame-Options every response
 * starts with (app.ts). Only the origin of a redirect URI registered for the client may frame it,
 * as Auth0 allows the iframe of a silent login only to the client's Allowed Web Origins
 * (docs/decisions/0041).
 */
function webMessageFramer(ctx: KoaContextWithOIDC): string | undefined {
  if (!WEB_MESSAGE_ROUTES.has(ctx.oidc?.route ?? '') || ctx.response.get('x-frame-options')) return undefined;
  const redirectUri = ctx.oidc.params?.['redirect_uri'];
  if (typeof redirectUri !== 'string' || !ctx.oidc.client?.redirectUriAllowed(redirectUri)) return undefined;
  return new URL(redirectUri).origin;
}

/** Key of ctx.state naming the one origin a page may be framed by (allowFramingBy). */
const FRAME_ANCESTOR = Symbol('frameAncestor');

/**
 * Lets `origin` alone frame this answer: a page without anything to click that a client runs in a
 * hidden iframe (decision 0041). Every other answer refuses framing (refuseFraming).
 */
export function allowFramingBy(ctx: KoaContextWithOIDC, origin: string): void {
  (ctx.state as Record<symbol, string>)[FRAME_ANCESTOR] = origin;
}

/**
 * The one origin allowed to frame an end-session answer given when the browser has no IdP session:
 * oidc-provider then answers, without calling logoutSource, with its own form that submits itself
 * and goes on to the post-logout redirect URI (nothing to end, nothing to ask), as the hinted
 * logout of a session does (allowFramingBy in logoutSource). The URI's origin frames it, and only
 * when oidc-provider kept the URI: registered for the client the request named (decision 0051).
 */
function endSessionWithoutSessionFramer(ctx: KoaContextWithOIDC): string | undefined {
  if (ctx.oidc?.route !== 'end_session' || ctx.status !== 200 || ctx.oidc.session?.accountId) return undefined;
  const postLogoutRedirectUri = ctx.oidc.params?.['post_logout_redirect_uri'];
  if (typeof postLogoutRedirectUri !== 'string' || !ctx.oidc.client?.postLogoutRedirectUriAllowed(postLogoutRedirectUri)) return undefined;
  return new URL(postLogoutRedirectUri).origin;
}

/**
 * Every response refuses framing (X-Frame-Options DENY, frame-ancestors 'none'), whatever produced
 * it, but for the pages a client runs in a hidden iframe, framed by that client's origin alone:
 * a web_message answer (Auth0's SPA SDK: checkSession, getTokenSilently without refresh tokens)
 * and the self-submitting end-session page of a logout carried out without asking (oidc-client-ts:
 * signoutSilent): a hint of this very session (allowFramingBy) or no session left to end. None
 * holds anything to click. The login page, the logout confirmation and every other page stay
 * unframeable.
 */
export function refuseFraming(provider: Provider): void {
  provider.use(async (koaCtx, next) => {
    await next();
    const ctx = koaCtx as unknown as KoaContextWithOIDC;
    const framer = webMessageFramer(ctx) ?? (ctx.state as Record<symbol, string | undefined>)[FRAME_ANCESTOR] ?? endSessionWithoutSessionFramer(ctx);
    const csp = ctx.response.get('content-security-policy');
    if (framer) {
      const directives = csp.split(';').map((d) => d.trim()).filter((d) => d && !d.startsWith('frame-ancestors'));
      ctx.set('Content-Security-Policy', [...directives, `frame-ancestors ${framer}`].join('; '));
      ctx.remove('X-Frame-Options');
      return;
    }
    if (!ctx.response.get('x-frame-options')) ctx.set('X-Frame-Options', 'DENY');
    if (csp && !csp.includes('frame-ancestors')) ctx.set('Content-Security-Policy', `${csp}; frame-ancestors 'none'`);
  });
}

/**
 * Auth0 issues a refresh token for `offline_access` without `prompt=consent`; oidc-provider drops
 * the scope unless consent is prompted. For authorization requests that ask for offline_access and
 * may interact, ask for consent too: first-party clients get it implied (interactions.ts), so the
 * user sees nothing more, and the scope survives to the code.
 */
export function keepOfflineAccess(provider: Provider): void {
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === ROUTES.authorization) {
      const query = new URLSearchParams(ctx.querystring);
      const scopes = (query.get('scope') ?? '').split(' ');
      const prompts = (query.get('prompt') ?? '').split(' ').filter(Boolean);
      if (scopes.includes('offline_access') && !prompts.includes('none') && !prompts.includes('consent') && query.getAll('prompt').length <= 1) {
        query.set('prompt', [...prompts, 'consent'].join(' '));
        ctx.querystring = query.toString();
      }
    }
    await next();
  });
}

/**
 * Introspection needs client credentials (RFC 7662 §2.1; discovery lists only the confidential
 * methods), but oidc-provider lets a public client through with `none` and answers it
 * `{ "active": false }`. Such a client is answered 401 invalid_client instead, whatever the token,
 * so the answer tells it nothing about the token either way.
 */
export function refuseIntrospectionWithoutCredentials(provider: Provider): void {
  provider.use(async (koaCtx, next) => {
    await next();
    const ctx = koaCtx as unknown as KoaContextWithOIDC;
    if (ctx.oidc?.route !== 'introspection' || ctx.oidc.client?.clientAuthMethod !== 'none') return;
    ctx.status = 401;
    ctx.body = { error: 'invalid_client', error_description: 'client authentication failed' };
  });
}

/** oidc-provider's refusal of a grant type the client is not registered for. */
const GRANT_TYPE_NOT_ALLOWED = 'requested grant type is not allowed for this client';
const isGrantTypeNotAllowed = (err: { error?: unknown; error_description?: unknown } | undefined) =>
  err?.error === 'invalid_request' && err.error_description === GRANT_TYPE_NOT_ALLOWED;

/**
 * A client asking the token endpoint for a grant type it is not registered for (the SPA's public
 * client asking client_credentials, a machine-to-machine client redeeming a code) is answered
 * unauthorized_client, as RFC 6749 §5.2 and Auth0 answer it; oidc-provider says invalid_request.
 */
export function answerDisallowedGrantType(provider: Provider): void {
  provider.use(async (koaCtx, next) => {
    await next();
    const ctx = koaCtx as unknown as KoaContextWithOIDC;
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (ctx.oidc?.route !== 'token' || !isGrantTypeNotAllowed(body)) return;
    ctx.body = { error: 'unauthorized_client', error_description: `Grant type '${String(ctx.oidc.params?.['grant_type'])}' not allowed for the client.` };
  });
}

/** Audit lines for what oidc-provider does on its own routes. Never a token, code or secret. */
export function auditProviderEvents(provider: Provider, logger: Logger): void {
  const clientOf = (ctx: KoaContextWithOIDC) => ctx.oidc?.client?.clientId;
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = String(ctx.oidc.params?.['grant_type']);
    logger.log('info', grantType === 'refresh_token' ? 'token_refreshed' : 'tokens_issued', {
      grantType, clientId: clientOf(ctx), sub: ctx.oidc.account?.accountId, grantId: ctx.oidc.entities.Grant?.jti,
    });
  });
  // A replay is refused in one of two places: by the adapter when parallel redemptions race
  // (ReplayDetected), or by oidc-provider itself when the code or token is already marked used,
  // which it does by revoking the grant and then failing the request. The token endpoint revokes a
  // grant for no other reason, so a failed token request that revoked its grant is a replay.
  const revokedByTokenRequest = new WeakSet<object>();
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error?: string; error_description?: string; error_detail?: string }) => {
    const detail = err.error_detail ?? err.error_description;
    if (err instanceof ReplayDetected) {
      logger.log('warn', 'replay_detected', { clientId: clientOf(ctx), error: err.error, model: err.model, grantId: err.grantId, race: true });
    } else if (revokedByTokenRequest.has(ctx) && err instanceof errors.InvalidGrant) {
      logger.log('warn', 'replay_detected', { clientId: clientOf(ctx), error: err.error, detail });
    } else if (isGrantTypeNotAllowed(err)) {
      logger.log('warn', 'token_error', { clientId: clientOf(ctx), error: 'unauthorized_client', detail, grantType: ctx.oidc.params?.['grant_type'] });
    } else {
      logger.log('warn', 'token_error', { clientId: clientOf(ctx), error: err.error, detail });
    }
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    if (ctx.oidc?.route === 'token') revokedByTokenRequest.add(ctx);
    logger.log('info', 'grant_revoked', { clientId: clientOf(ctx), grantId, route: ctx.oidc?.route });
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    logger.log('info', 'logout', { clientId: clientOf(ctx), sub: ctx.oidc.session?.accountId });
  });
  provider.on('backchannel.success', (_ctx: KoaContextWithOIDC, client: { clientId: string }, sub: string) => {
    logger.log('info', 'backchannel_logout_sent', { clientId: client.clientId, sub });
  });
  provider.on('backchannel.error', (_ctx: KoaContextWithOIDC, err: Error, client: { clientId: string }, sub: string) => {
    logger.log('warn', 'backchannel_logout_failed', { clientId: client.clientId, sub, message: err.message });
  });
  provider.on('server_error', (_ctx: KoaContextWithOIDC, err: Error) => {
    logger.log('error', 'server_error', { message: err.message });
  });
  provider.use(async (koaCtx, next) => {
    await next();
    const ctx = koaCtx as unknown as KoaContextWithOIDC;
    const route = ctx.oidc?.route;
    if (route === 'revocation' && ctx.status === 200) logger.log('info', 'token_revoked', { clientId: clientOf(ctx) });
    if (route === 'introspection' || route === 'revocation') {
      if (ctx.status >= 400) logger.log('warn', `${route}_refused`, { clientId: clientOf(ctx), status: ctx.status });
    }
  });
}

/**
 * oidc-provider keeps `offline_access` grants alive through RP-initiated logout (they "persist
 * logout"), so a refresh token the client failed to revoke would outlive the logout. Here a
 * confirmed logout revokes every grant of the session it ends. Only a confirmation that says
 * `logout` reaches oidc-provider (logout-confirmation.ts, decision 0055): a "No" on the sign-out
 * page ends nothing, no client's grant included.
 *
 * Signing out of the IdP revokes the grants before the session record is deleted (as the confirmed
 * end-session deletes it): a crash in between leaves a session whose logout the user confirms
 * again, never a deleted session whose grants live on with nothing left to revoke them by. Auth0's
 * /v2/logout deletes sessions too and revokes nothing (auth0-logout.ts): only the end-session
 * confirmation, marked for the request, revokes.
 */
export function revokeGrantsAtLogout(provider: Provider, store: Store, logger: Logger): void {
  const confirmingLogout = new AsyncLocalStorage<true>();
  const session = provider.Session.prototype;
  const destroy = session.destroy;
  session.destroy = async function destroyAfterItsGrants(this: InstanceType<Provider['Session']>) {
    if (confirmingLogout.getStore()) {
      for (const [clientId, { grantId }] of Object.entries((this.authorizations ?? {}) as Record<string, { grantId?: string }>)) {
        if (!grantId) continue;
        await store.revokeGrant(grantId);
        logger.log('info', 'grant_revoked', { clientId, grantId, route: 'end_session' });
      }
    }
    return destroy.call(this);
  };
  provider.use(async (koaCtx, next) => {
    if (koaCtx.method !== 'POST' || koaCtx.path !== END_SESSION_CONFIRM_PATH) return next();
    await confirmingLogout.run(true, next);
  });
}
