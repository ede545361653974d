// Every call the BFF makes to the OpenID Provider, through openid-client: discovery, the
// authorization URL, the code exchange (state, nonce and PKCE checked), refresh, revocation and
// the end-session URL. Endpoints come from discovery only, so the embedded IdP and an Auth0
// tenant differ in configuration alone. Discovery is retried until it succeeds: the BFF may
// start before its IdP.
import * as oidc from 'openid-client';
import { TOKEN_ENDPOINT_WARMUP_INTERVAL_MS } from './defaults.ts';

export interface IdpClientOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  scope: string;
  audience: string;
  /** For tests: every HTTP call to the IdP goes through it. */
  fetch?: oidc.CustomFetch;
  /** For tests: the clock of the warm-up's interval (epoch ms). */
  now?: () => number;
  /**
   * Told of every refusal of the BFF's own request (IdpRefusedClientError): at which endpoint, and
   * the IdP's error code. The app logs it as an error: an operator has something to fix.
   */
  onRefused?: (endpoint: 'token' | 'revocation', error: string) => void;
  /** How a logout names the session to the end-session endpoint (BFF_LOGOUT_HINT, decision 0066); default 'sid'. */
  logoutHint?: 'sid' | 'id_token';
}

/** What a logout knows of the session it ends: its ID token and the IdP session id (`sid`) it named. */
export interface EndedSession {
  idToken: string | undefined;
  sid: string | null;
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
  /** Seconds, as the token endpoint said. */
  expiresIn: number | undefined;
  scope: string | undefined;
  /** The ID token's claims, validated by openid-client (signature, iss, aud, exp, nonce). */
  claims: Record<string, unknown> | undefined;
}

/** The IdP refused a grant for good (`invalid_grant`): the login it came from is over. */
export class GrantRevokedError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'GrantRevokedError';
  }
}

export class IdpUnavailableError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'IdpUnavailableError';
  }
}

/**
 * The IdP refused the BFF's own request: its credentials (`invalid_client`, a 401 challenge), its
 * registration (`unauthorized_client`), or what it sent (`invalid_request`, `invalid_scope`...). A
 * misconfiguration of the BFF or of the IdP, which no session caused and no session can end: the
 * browser is answered 503 and its session kept (with a valid access token it goes on), the BFF logs
 * an error. Only `invalid_grant` speaks of the session (GrantRevokedError), and the IdP's own
 * trouble (`server_error`, `temporarily_unavailable`, no answer) is an outage.
 */
export class IdpRefusedClientError extends IdpUnavailableError {
  readonly error: string;
  constructor(error: string) {
    super(`the identity provider refused the BFF's request: ${error}`);
    this.name = 'IdpRefusedClientError';
    this.error = error;
  }
}

/** OAuth error codes that say the IdP is in trouble, not that it refused the request. */
const OUTAGE_ERRORS = new Set(['server_error', 'temporarily_unavailable']);

/** The OAuth error code the IdP refused a request with, or undefined when it did not answer one. */
function refusalOf(err: unknown): string | undefined {
  if (err instanceof oidc.ResponseBodyError) return err.status >= 500 || OUTAGE_ERRORS.has(err.error) ? undefined : err.error;
  // A 401 with a challenge: the client's authentication failed, whatever the challenge names.
  if (err instanceof oidc.WWWAuthenticateChallengeError) return err.cause.find((c) => c.parameters.error)?.parameters.error ?? 'invalid_client';
  return undefined;
}

const DISCOVERY_RETRY_MS = 500;
const DISCOVERY_RETRY_MAX_MS = 30_000;

export class IdpClient {
  readonly #opts: IdpClientOptions;
  #config: oidc.Configuration | undefined;
  #discovering: Promise<oidc.Configuration> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastWarmup = -Infinity;

  constructor(opts: IdpClientOptions) {
    this.#opts = opts;
  }

  get ready(): boolean {
    return this.#config !== undefined;
  }

  /** Discovers now and keeps retrying in the background (backing off) until it succeeds. */
  start(onError: (err: unknown) => void, delayMs = DISCOVERY_RETRY_MS): void {
    this.configuration().catch((err: unknown) => {
      onError(err);
      if (this.#stopped) return;
      this.#retryTimer = setTimeout(() => this.start(onError, Math.min(delayMs * 2, DISCOVERY_RETRY_MAX_MS)), delayMs);
      this.#retryTimer.unref();
    });
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
  }

  async configuration(): Promise<oidc.Configuration> {
    if (this.#config) return this.#config;
    this.#discovering ??= this.#discover().finally(() => {
      this.#discovering = undefined;
    });
    return this.#discovering;
  }

  async #discover(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.#opts;
    const insecure = new URL(issuer).protocol === 'http:';
    try {
      const config = await oidc.discovery(new URL(issuer), clientId, { client_secret: clientSecret }, oidc.ClientSecretBasic(clientSecret), {
        execute: insecure ? [oidc.allowInsecureRequests] : [],
        ...(this.#opts.fetch ? { [oidc.customFetch]: this.#opts.fetch } : {}),
      });
      if (this.#opts.fetch) config[oidc.customFetch] = this.#opts.fetch;
      this.#config = config;
      return config;
    } catch (err) {
      throw new IdpUnavailableError(`discovery of ${issuer} failed: ${(err as Error).message}`);
    }
  }

  async authorizationUrl(params: { state: string; nonce: string; codeVerifier: string }): Promise<URL> {
    const config = await this.configuration();
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#opts.redirectUri,
      response_type: 'code',
      scope: this.#opts.scope,
      audience: this.#opts.audience,
      state: params.state,
      nonce: params.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(params.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  /**
   * Opens a connection to the token endpoint's server now, for the code exchange of a login that
   * has just started: an OPTIONS request through the same fetch (the same connection pool) as the
   * exchange, its answer read and ignored. Without it, a callback after a quiet spell opens a new
   * connection first (the lookup and the TCP and TLS handshakes), because the IdP closes idle ones
   * (Node's 5 s, fewer seconds for the client). OPTIONS, not HEAD: Node's HTTP server closes the
   * connection after a HEAD answer without a length, as oidc-provider's 404 is. At most one every
   * TOKEN_ENDPOINT_WARMUP_INTERVAL_MS, so a burst of logins sends the IdP no burst of warm-ups;
   * never waited for, never an error.
   */
  warmTokenEndpoint(): void {
    const now = this.#opts.now?.() ?? Date.now();
    const endpoint = this.#config?.serverMetadata().token_endpoint;
    if (!endpoint || now - this.#lastWarmup < TOKEN_ENDPOINT_WARMUP_INTERVAL_MS) return;
    this.#lastWarmup = now;
    const send: oidc.CustomFetch = this.#opts.fetch ?? ((url, options) => fetch(url, options as RequestInit));
    // The body is read, not cancelled: a cancelled body costs the connection.
    send(endpoint, { method: 'OPTIONS', headers: {}, body: undefined, redirect: 'manual' })
      .then((res) => res.arrayBuffer())
      .catch(() => {});
  }

  /** `callbackQuery`: the query string the browser brought to the callback. */
  async exchangeCode(callbackQuery: string, checks: { state: string; nonce: string; codeVerifier: string }): Promise<TokenSet> {
    const config = await this.configuration();
    const current = new URL(this.#opts.redirectUri);
    current.search = callbackQuery;
    let response;
    try {
      response = await oidc.authorizationCodeGrant(config, current, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.codeVerifier,
        idTokenExpected: true,
      });
    } catch (err) {
      // The code itself refused (used, expired, another verifier) stays a failed sign-in.
      const refusal = refusalOf(err);
      if (refusal !== undefined && refusal !== 'invalid_grant') throw this.#refused('token', refusal);
      throw err;
    }
    return toTokenSet(response);
  }

  /** A new token set from the refresh token; GrantRevokedError when the IdP says the grant is gone. */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const config = await this.configuration();
    try {
      return toTokenSet(await oidc.refreshTokenGrant(config, refreshToken));
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal === 'invalid_grant') throw new GrantRevokedError((err as oidc.ResponseBodyError).error_description ?? refusal);
      if (refusal !== undefined) throw this.#refused('token', refusal);
      throw err;
    }
  }

  async revokeRefreshToken(refreshToken: string): Promise<void> {
    const config = await this.configuration();
    try {
      await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal !== undefined) throw this.#refused('revocation', refusal);
      throw err;
    }
  }

  #refused(endpoint: 'token' | 'revocation', error: string): IdpRefusedClientError {
    this.#opts.onRefused?.(endpoint, error);
    return new IdpRefusedClientError(error);
  }

  /**
   * The IdP's end-session URL for this login (none named: without a hint, the IdP asks the user),
   * or undefined when the IdP announces none. The session is named by `client_id` and
   * `logout_hint` = its sid, so that no token passes through the browser (Auth0's alternative to
   * id_token_hint, decision 0066); by its ID token when configured so, or when it has no sid.
   */
  async endSessionUrl(ended: EndedSession | undefined, postLogoutRedirectUri: string): Promise<string | undefined> {
    const config = await this.configuration();
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    const bySid = ended?.sid && (this.#opts.logoutHint ?? 'sid') === 'sid';
    // openid-client adds client_id itself to a request without an id_token_hint.
    return oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: postLogoutRedirectUri,
      ...(bySid ? { logout_hint: ended.sid! } : ended?.idToken ? { id_token_hint: ended.idToken } : {}),
    }).href;
  }
}

function toTokenSet(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): TokenSet {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    idToken: response.id_token,
    expiresIn: response.expiresIn(),
    scope: response.scope,
    claims: response.claims() as Record<string, unknown> | undefined,
  };
}
