// oidc-provider configured to behave like Auth0 for an SPA + API: code flow with PKCE (S256) for
// every client, Auth0's `audience` parameter selecting the API, JWT (or opaque) access tokens with
// aud as an array, azp and a space-separated scope, refresh tokens rotated at every use.
import Provider, { errors, interactionPolicy, type Configuration, type JWK, type KoaContextWithOIDC } from 'oidc-provider';
import { createHash } from 'node:crypto';
import { AUTHORIZATION_CODE_TTL_SECONDS, CLIENT_ASSERTION_ALGS, CLIENT_ASSERTION_MAX_LIFETIME_SECONDS, COOKIE_OPTIONS, INTERACTION_TTL_SECONDS, SIGNING_ALGS } from './defaults.ts';
import { grantedScope, installJwtAccessTokens } from './access-tokens.ts';
import { backchannelFetch, registeredBackchannelUris } from './backchannel-fetch.ts';
import { CLIENT_CREDENTIALS_GTY, clientCredentialsAudience, clientCredentialsScopes, clientSubject, isClientCredentialsRequest, requestedAudience } from './client-grants.ts';
import type { ClientRegistry } from './clients.ts';
import { epochSeconds, type Clock } from './clock.ts';
import type { IdpConfig } from './config.ts';
import { cookieNames } from './cookie-names.ts';
import type { Logger } from './log.ts';
import { grantImpliedConsent, isNothingMissing, missingConsent } from './implied-consent.ts';
import type { InteractionBinding } from './interaction-binding.ts';
import { allowFramingBy } from './koa-middleware.ts';
import { ACCOUNT_SELECTION_PROMPT } from './interactions.ts';
import { ROUTES } from './routes.ts';
import { LocalSigningKey } from './signing-keys.ts';
import { createAdapterFactory } from './storage/oidc-adapter.ts';
import type { Store } from './storage/store.ts';
import type { UserDirectory } from './users.ts';
import { renderErrorPage, renderLoggedOutPage, renderLogoutPage } from './views/logout-pages.ts';

export interface ProviderDeps {
  config: IdpConfig;
  registry: ClientRegistry;
  users: UserDirectory;
  store: Store;
  keys: JWK[];
  cookieKeys: string[];
  logger: Logger;
  clock: Clock;
  /** Binds each interaction to the browser that started it (its login page answers no other). */
  binding: InteractionBinding;
}

const CONFIDENTIAL_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
const CLIENT_AUTH_METHODS = ['none', ...CONFIDENTIAL_AUTH_METHODS] as const;
const CORS_ROUTES = new Set(['token', 'revocation', 'userinfo']);

/**
 * Whether an end-session request proves the session being ended. With an id_token_hint:
 * oidc-provider has validated its signature and audience (expired hints included, as RP-Initiated
 * Logout allows); this checks that it names the session: its subject, and its session id when it
 * carries one (every ID token does, see includeSid below), and a logout_hint beside it must be that
 * sid (as Auth0 requires). Without one, Auth0's alternative for a client that keeps no ID token
 * where the browser sees it (a BFF, decision 0066): client_id and logout_hint, the session's id for
 * that client. That sid reaches only that client, in its ID and logout tokens, so it proves no less.
 */
function hintMatchesSession(ctx: KoaContextWithOIDC): boolean {
  const hint = ctx.oidc.entities.IdTokenHint as { payload?: { sub?: unknown; sid?: unknown; aud?: unknown } } | undefined;
  const session = ctx.oidc.session;
  const logoutHint = ctx.oidc.params?.['logout_hint'] as string | undefined;
  if (!session?.accountId) return false;
  if (!hint?.payload) {
    const clientId = ctx.oidc.params?.['client_id'] as string | undefined;
    return !!clientId && !!logoutHint && session.sidFor(clientId) === logoutHint;
  }
  if (hint.payload.sub !== session.accountId) return false;
  if (logoutHint !== undefined && logoutHint !== hint.payload.sid) return false;
  if (hint.payload.sid === undefined) return true;
  return typeof hint.payload.aud === 'string' && session.sidFor(hint.payload.aud) === hint.payload.sid;
}

/**
 * oidc-provider checks the `resource` of a refresh request only after it consumed the refresh
 * token; the same check, made before.
 */
function assertGrantedResource(ctx: KoaContextWithOIDC): void {
  const requested = ctx.oidc.params?.['resource'] as string | string[] | undefined;
  if (requested === undefined) return;
  const values = [requested].flat();
  if (values.length !== 1) throw new errors.InvalidTarget('only a single resource indicator value must be requested/resolved during Access Token Request');
  const granted = (ctx.oidc.entities.RefreshToken as unknown as { resourceIndicators: Set<string> } | undefined)?.resourceIndicators;
  if (!granted?.has(values[0]!)) throw new errors.InvalidTarget();
}

/** oidc-provider's own tolerance of a clock ahead of ours (its default `clockTolerance`), for an assertion's exp too. */
const CLOCK_TOLERANCE_SECONDS = 15;

/**
 * A client assertion (private_key_jwt, decision 0077), after oidc-provider checked its signature
 * against the client's registered keys, iss, sub, exp and jti: its audience must be this IdP's
 * issuer identifier exactly, one string (RFC 7523bis; Auth0: the tenant URL with its trailing
 * slash, which is the issuer of a tenant-like IdP), never the token or another endpoint's URL
 * that oidc-provider also takes: a client that signs for the endpoint another server named in
 * its metadata would otherwise hand that server an assertion valid here. It lives at most
 * CLIENT_ASSERTION_MAX_LIFETIME_SECONDS, from its iat and from now.
 */
function assertClientAssertion(issuer: string, nowSeconds: number, claims: Record<string, unknown>): void {
  if (claims['aud'] !== issuer) {
    throw new errors.InvalidClientAuth(`the client assertion's audience (aud) must be the issuer identifier ${issuer}, one string`);
  }
  const exp = Number(claims['exp']);
  const iat = claims['iat'] === undefined ? undefined : Number(claims['iat']);
  if (exp - nowSeconds > CLIENT_ASSERTION_MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS || (iat !== undefined && !(exp - iat <= CLIENT_ASSERTION_MAX_LIFETIME_SECONDS))) {
    throw new errors.InvalidClientAuth(`a client assertion may live at most ${CLIENT_ASSERTION_MAX_LIFETIME_SECONDS} seconds`);
  }
}

/** Whether the authorization request in `ctx` is a silent login (prompt=none): it may show no page. */
function isSilentLogin(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.route === 'authorization' && (ctx.oidc.params as { prompt?: string }).prompt === 'none';
}

/**
 * oidc-provider drops `offline_access` from any authorization request without prompt=consent, and
 * prompt=none cannot carry consent, so a silent login never got a refresh token; Auth0 gives one.
 * OpenID Connect Core 11 allows offline access without the consent prompt when other conditions
 * permit it: here, the user's grant to this very client already holds offline_access (given at an
 * interactive login), and the client may use refresh tokens. Then the scope the request asked for
 * is put back; otherwise it stays dropped (no refresh token, no error). docs/decisions/0042
 */
function keepGrantedOfflineAccess(ctx: KoaContextWithOIDC, grant: InstanceType<Provider['Grant']> | undefined): void {
  const params = ctx.oidc.params as { scope?: string };
  // The authorization endpoint answers GET only (oidc-provider's POST is off): the query is the request.
  const asked = String(ctx.query['scope'] ?? '').split(' ');
  const kept = (params.scope ?? '').split(' ');
  if (asked.includes('offline_access') && !kept.includes('offline_access') && ctx.oidc.client!.grantTypeAllowed('refresh_token')
    && grant?.getOIDCScope().split(' ').includes('offline_access')) {
    params.scope = [...kept.filter(Boolean), 'offline_access'].join(' ');
  }
}

/**
 * oidc-provider's prompts (login, consent) and `select_account` before them. Auth0's SDKs offer
 * prompt=select_account (a "switch account" button) and oidc-provider refused it as an unsupported
 * prompt value. This IdP holds one account per browser session and has no account chooser: the
 * login page is where the user picks the account, by signing in as any user. So a request with
 * select_account shows the login page even to a signed-in browser (interactions.ts).
 */
function promptsWithAccountSelection(): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: ACCOUNT_SELECTION_PROMPT, requestable: true }), 0);
  return policy;
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, registry, users, store, logger } = deps;

  /**
   * oidc-provider's loadExistingGrant (the session's grant for the client, or the one the consent
   * interaction saved), and for a silent login what an interactive one would have given without a
   * page: the offline_access already granted (keepGrantedOfflineAccess) and, for a first-party
   * client, the implied consent to whatever else it asks for (a new OpenID scope, an API, an API
   * scope the user holds), which oidc-provider would otherwise refuse with consent_required. Auth0
   * answers a first-party application's silent request so (docs/decisions/0042).
   */
  async function loadGrant(ctx: KoaContextWithOIDC): Promise<InstanceType<Provider['Grant']> | undefined> {
    const { oidc } = ctx;
    const grantId = (oidc.result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId || oidc.session!.grantIdFor(oidc.client!.clientId);
    const found = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!isSilentLogin(ctx)) return found;
    keepGrantedOfflineAccess(ctx, found);
    const user = oidc.session!.accountId ? users.findBySub(oidc.session!.accountId) : undefined;
    if (!user || !registry.policies.get(oidc.client!.clientId)?.firstParty) return found;
    const grant = found ?? new oidc.provider.Grant({ accountId: user.sub, clientId: oidc.client!.clientId });
    const missing = missingConsent(ctx, grant);
    if (isNothingMissing(missing)) return found;
    grantImpliedConsent(grant, missing, user.apiScopes);
    await grant.save();
    return grant;
  }
  const now = () => epochSeconds(deps.clock);
  const resources = new Map(registry.resources.map((r) => [r.identifier, r]));
  const originsByClient = new Map(registry.clients.map((c) => [c.client_id, new Set((c.redirect_uris ?? []).map((u) => new URL(u).origin))]));

  let jwtAccessTokens: ReturnType<typeof installJwtAccessTokens>;
  const configuration: Configuration = {
    clients: registry.clients,
    adapter: createAdapterFactory(store, (model, grantId) => {
      logger.log('info', 'grant_revoked', { model, grantId, reason: 'replay' });
    }, {
      refreshTokenReuseIntervalSeconds: config.IDP_REFRESH_TOKEN_REUSE_INTERVAL,
      onReuseWithinInterval: (grantId) => logger.log('info', 'refresh_token_retried', { grantId, outcome: 'new refresh token, unused one revoked' }),
    }),
    // Signed on this thread with node:crypto (signing-keys.ts); published and verified as before.
    jwks: { keys: deps.keys.map((jwk) => new LocalSigningKey(jwk)) },
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    cookies: {
      names: cookieNames(config.issuer),
      keys: deps.cookieKeys,
      long: { ...COOKIE_OPTIONS },
      short: { ...COOKIE_OPTIONS },
    },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    extraParams: ['audience'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    routes: ROUTES,
    clientAuthMethods: [...CLIENT_AUTH_METHODS],
    // oidc-provider lists neither; the revocation endpoint takes every client's own method (public
    // clients revoke with none), introspection only confidential clients (clients.ts enforces it).
    discovery: {
      revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
      introspection_endpoint_auth_methods_supported: [...CONFIDENTIAL_AUTH_METHODS],
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: config.IDP_SIGNING_ALG,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    enabledJWA: { idTokenSigningAlgValues: [...SIGNING_ALGS], clientAuthSigningAlgValues: [...CLIENT_ASSERTION_ALGS] },
    assertJwtClientAuthClaimsAndHeader: async (_ctx, claims) => assertClientAssertion(config.issuer, now(), claims as Record<string, unknown>),
    // Back-channel logout tokens go to the registered URIs even on loopback or private hosts.
    fetch: backchannelFetch(registeredBackchannelUris(registry.clients), globalThis.fetch, { timeoutMs: config.IDP_BACKCHANNEL_LOGOUT_TIMEOUT_MS }),
    features: {
      devInteractions: { enabled: false },
      // LocalSigningKey in jwks; the ack pins the experiment's version (a new one stops the start).
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      // A confirmed end-session posts a logout token (typ logout+jwt) to the backchannel_logout_uri
      // of each client it ends: every client of the IdP session when the user signs out of the IdP
      // (logout=yes, as the auto-submitted page sends), else the requesting client only. Clients
      // with backchannel_logout_session_required get `sid` in their ID tokens.
      backchannelLogout: { enabled: true },
      // On by default in oidc-provider; nothing here configures, documents or tests them.
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      // Machine-to-machine clients, only those marked so and only for their client grants (client-grants.ts).
      clientCredentials: { enabled: true },
      // Popup logins of Auth0's SPA SDK (loginWithPopup) answer by postMessage to the opener.
      webMessageResponseMode: { enabled: true, ack: 'individual-draft-01' },
      revocation: {
        enabled: true,
        // A client may revoke only its own tokens: another client's token is left untouched.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        // Only clients marked may_introspect (the API), and only for access tokens meant for an API.
        allowedPolicy: async (_ctx, client, token) => {
          if (!registry.policies.get(client.clientId)?.mayIntrospect) return false;
          const aud = (token as { aud?: string | string[] }).aud;
          return (token.kind === 'AccessToken' || token.kind === 'ClientCredentials') && [aud].flat().some((a) => a !== undefined && resources.has(a));
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        // Logs out at once only for an id_token_hint (or client_id + logout_hint, 0066) of this very
        // session and a registered post_logout_redirect_uri; anything less asks the user (docs/decisions/0006).
        // That page submits itself and shows nothing to click: the post-logout redirect URI's origin
        // may run it in a hidden iframe (oidc-client-ts signoutSilent), as Auth0's redirect at once.
        logoutSource: async (ctx, form) => {
          const hinted = Boolean(ctx.oidc.params?.['post_logout_redirect_uri']) && hintMatchesSession(ctx);
          if (hinted) allowFramingBy(ctx, new URL(String(ctx.oidc.params!['post_logout_redirect_uri'])).origin);
          ctx.type = 'html';
          ctx.body = renderLogoutPage(form, ctx.host, hinted);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = renderLoggedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, _client, oneOf) => (isClientCredentialsRequest(ctx)
          ? clientCredentialsAudience(ctx, registry.machines)
          : (ctx.oidc.params?.['audience'] as string | undefined) ?? oneOf),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator) => {
          const resource = resources.get(indicator);
          let scopes = resource?.scopes;
          if (isClientCredentialsRequest(ctx)) {
            const audience = requestedAudience(ctx);
            if (audience !== undefined && audience !== indicator) throw new errors.InvalidTarget('audience and resource name different APIs');
            // The client grant decides, before oidc-provider filters the request's scope by this answer.
            scopes = clientCredentialsScopes(ctx, registry.machines, indicator, resource !== undefined);
            ctx.oidc.params!['scope'] = scopes.join(' ');
          }
          if (!resource || !scopes) throw new errors.InvalidTarget('unknown audience or resource');
          return {
            scope: scopes.join(' '),
            audience: resource.identifier,
            accessTokenTTL: config.IDP_ACCESS_TOKEN_TTL,
            accessTokenFormat: config.IDP_ACCESS_TOKEN_FORMAT,
            ...(config.IDP_ACCESS_TOKEN_FORMAT === 'jwt' ? { jwt: { sign: { alg: config.IDP_SIGNING_ALG } } } : {}),
          };
        },
      },
    },
    // Auth0's claims of a client-credentials token; in its JWT too, where customize() sets them last.
    extraTokenClaims: async (_ctx, token) => (token.kind === 'ClientCredentials'
      ? { sub: clientSubject(token.clientId!), gty: CLIENT_CREDENTIALS_GTY }
      : undefined),
    formats: {
      customizers: {
        // Auth0's shapes (access-tokens.ts); also keeps a record so the token can be found again.
        jwt: (ctx, token, jwt) => jwtAccessTokens.customize(ctx, token as never, jwt),
      },
    },
    // Auth0 issues refresh tokens for offline_access without prompt=consent; see keepOfflineAccess
    // (koa-middleware.ts), which keeps offline_access from being dropped, interactions.ts, which
    // grants it for first-party clients, and loadGrant (keepGrantedOfflineAccess) for silent logins.
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // Called just before the refresh token is consumed: the request is checked here first, so that a
    // refused request (a resource the grant does not cover) leaves the token usable.
    rotateRefreshToken: (ctx) => {
      assertGrantedResource(ctx);
      return true;
    },
    ttl: {
      AccessToken: config.IDP_ACCESS_TOKEN_TTL,
      ClientCredentials: config.IDP_ACCESS_TOKEN_TTL,
      AuthorizationCode: AUTHORIZATION_CODE_TTL_SECONDS,
      IdToken: config.IDP_ID_TOKEN_TTL,
      Interaction: INTERACTION_TTL_SECONDS,
      Session: config.IDP_SESSION_TTL,
      Grant: config.IDP_REFRESH_TOKEN_ABSOLUTE_TTL,
      // Idle lifetime, never past the absolute lifetime counted from the first token of the grant.
      RefreshToken: (_ctx, token) => {
        const iiat = (token as { iiat?: number }).iiat ?? now();
        const remaining = iiat + config.IDP_REFRESH_TOKEN_ABSOLUTE_TTL - now();
        return Math.max(1, Math.min(config.IDP_REFRESH_TOKEN_IDLE_TTL, remaining));
      },
    },
    findAccount: async (_ctx, sub) => {
      const user = users.findBySub(sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        claims: async () => ({ sub: user.sub, name: user.name, email: user.email, email_verified: user.email !== '' }),
      };
    },
    interactions: {
      url: async (ctx, interaction) => {
        await deps.binding.bind(ctx, interaction.uid);
        return `/interaction/${interaction.uid}`;
      },
      policy: promptsWithAccountSelection(),
    },
    loadExistingGrant: loadGrant,
    clientBasedCORS: (ctx, origin, client) => CORS_ROUTES.has(ctx.oidc.route ?? '') && (originsByClient.get(client.clientId)?.has(origin) ?? false),
    renderError: async (ctx: KoaContextWithOIDC, out) => {
      ctx.type = 'html';
      ctx.body = renderErrorPage(String(out['error'] ?? 'error'), out['error_description'] as string | undefined);
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // Koa reads X-Forwarded-Host/-Proto (URLs, Secure cookies): request-host.ts always sets them to the
  // issuer's, and drops X-Forwarded-For unless IDP_TRUST_PROXY says a proxy wrote it.
  provider.proxy = true;
  // Every ID token carries the session id `sid` (oidc-provider adds it only for clients registered
  // for back-channel logout): logout hints are matched against the session with it.
  provider.Client.prototype.includeSid = () => true;
  // A refreshed ID token must not repeat the login's nonce (OpenID Connect Core 12.2);
  // oidc-provider copies it from the refresh token.
  const setIdTokenClaim = provider.IdToken.prototype.set;
  provider.IdToken.prototype.set = function set(this: InstanceType<Provider['IdToken']>, key: string, value: unknown) {
    const ctx = (this as unknown as { ctx?: KoaContextWithOIDC }).ctx;
    if (key === 'nonce' && ctx?.oidc?.params?.['grant_type'] === 'refresh_token') return;
    setIdTokenClaim.call(this, key, value);
  };
  // A client assertion's jti is taken once (decision 0077). oidc-provider looks it up, then saves
  // it: two requests with one assertion both pass between the two awaits. Saved, then consumed
  // with the store's atomic consume (SQLite and Redis alike; saving again never clears the mark):
  // only one request wins. Keyed by client and jti, unambiguously.
  provider.ReplayDetection.unique = async (iss: string, jti: string, exp: number) => {
    const id = createHash('sha256').update(JSON.stringify([iss, jti])).digest('base64url');
    await store.upsert('ReplayDetection', id, { iss, jti: id, exp }, Math.max(1, exp - now()));
    return (await store.consume('ReplayDetection', id)) === 'consumed';
  };
  // The token response lists every granted scope, as Auth0's does (oidc-provider: the token's only).
  provider.use(async (koaCtx, next) => {
    await next();
    const ctx = koaCtx as unknown as KoaContextWithOIDC;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && typeof body?.['access_token'] === 'string') {
      body['scope'] = grantedScope(ctx, body['scope'] as string | undefined);
    }
  });
  jwtAccessTokens = installJwtAccessTokens(provider, {
    issuer: config.issuer, keys: deps.keys, clock: deps.clock,
    profileOf: (audience) => resources.get(audience)?.token_profile ?? config.IDP_ACCESS_TOKEN_PROFILE,
  });
  return provider;
}
