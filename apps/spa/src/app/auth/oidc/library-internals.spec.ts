// Runs the real angular-auth-oidc-client (login redirect, callback with a signed ID token,
// refresh, local logoff) against a scripted IdP, and checks every assumption library-internals.ts
// makes about it. When an upgrade changes one, this fails instead of a user.
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { OidcSecurityService } from 'angular-auth-oidc-client';
import { firstValueFrom } from 'rxjs';
import { BrowserNavigation } from '../../core/browser-navigation';
import { TOKEN_MODE_CONFIG } from '../../core/runtime-config';
import { testRuntimeConfig } from '../../../testing/runtime-config';
import { hasStoredTokens, LOGIN_IN_FLIGHT_ENTRIES, logoffLocalLeavingNothing, PER_TAB_ENTRIES, refreshLockName, storedAccessTokenExpiry, storedJwksUri } from './library-internals';
import { LOGOUT_REVOCATION_DEADLINE, OidcAuthSession } from './oidc-auth-session';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import { provideOidcAuthSession } from './provide-oidc-auth-session';
import { refreshOutageInterceptor } from './refresh-outage-interceptor';
import { SplitSecurityStorage, STORAGE_PREFIX } from './split-security-storage';

const config = testRuntimeConfig;
const issuer = config.authority;
const discovery = {
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  jwks_uri: `${issuer}/jwks`,
  end_session_endpoint: `${issuer}/session/end`,
  revocation_endpoint: `${issuer}/token/revocation`,
};

/** An RS256 signing key of the scripted IdP, and its JWKS. */
async function signingKey(): Promise<{ sign(claims: object): Promise<string>; jwks: object }> {
  const pair = await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
  const jwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const part = (value: object) => b64url(new TextEncoder().encode(JSON.stringify(value)));
  return {
    jwks: { keys: [{ kty: jwk.kty, n: jwk.n, e: jwk.e, kid: jwk.kid, alg: jwk.alg, use: jwk.use }] },
    async sign(claims: object) {
      const input = `${part({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${part(claims)}`;
      const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', pair.privateKey, new TextEncoder().encode(input));
      return `${input}.${b64url(new Uint8Array(signature))}`;
    },
  };
}

function stored(storage: Storage): Record<string, unknown> {
  return JSON.parse(storage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID) ?? '{}') as Record<string, unknown>;
}

describe('angular-auth-oidc-client internals this app relies on (real library)', () => {
  let oidc: OidcSecurityService;
  let backend: HttpTestingController;
  let key: Awaited<ReturnType<typeof signingKey>>;
  let navigatedTo: string[];
  let logoutDeadline: AbortController;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    key = await signingKey();
  });

  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    navigatedTo = [];
    logoutDeadline = new AbortController();
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([refreshOutageInterceptor])), provideHttpClientTesting(), { provide: TOKEN_MODE_CONFIG, useValue: config }, ...provideOidcAuthSession(config),
        { provide: BrowserNavigation, useValue: { assign: (url: string) => navigatedTo.push(url) } },
        { provide: LOGOUT_REVOCATION_DEADLINE, useValue: () => logoutDeadline.signal },
      ],
    });
    oidc = TestBed.inject(OidcSecurityService);
    backend = TestBed.inject(HttpTestingController);
  });

  afterEach(() => {
    vi.restoreAllMocks();
    Reflect.deleteProperty(navigator, 'locks');
  });

  /** Answers the next request to `url` (it may be sent a few ticks later). */
  async function respond(url: string, body: object): Promise<void> {
    await vi.waitFor(() => backend.expectOne(url).flush(body));
  }

  async function tokens(nonce: string | undefined, refreshToken: string): Promise<object> {
    const idToken = await key.sign({ iss: issuer, aud: config.clientId, sub: 'auth0|alice', name: 'Alice', iat: now(), exp: now() + 300, ...(nonce ? { nonce } : {}) });
    return { access_token: `opaque-${refreshToken}`, id_token: idToken, refresh_token: refreshToken, token_type: 'Bearer', expires_in: 300, scope: config.scope };
  }

  /** The login redirect: the library stores its flow state and the discovery document. */
  async function startLogin(): Promise<void> {
    let redirect = '';
    oidc.authorize(undefined, { urlHandler: (url) => (redirect = url) });
    await respond(`${issuer}/.well-known/openid-configuration`, discovery);
    await vi.waitFor(() => expect(redirect).toMatch(/^http:\/\/localhost:4400\/authorize\?/));
  }

  /** The return from the IdP, up to a signed-in session. */
  async function finishLogin(): Promise<void> {
    const { authStateControl: state, authNonce: nonce } = stored(sessionStorage) as { authStateControl: string; authNonce: string };
    const result = firstValueFrom(oidc.checkAuth(`${config.redirectUrl}/?code=the-code&state=${state}`));
    await respond(discovery.token_endpoint, await tokens(nonce, 'rt-1'));
    await respond(discovery.jwks_uri, key.jwks);
    expect((await result).isAuthenticated).toBe(true);
  }

  it('a login writes its flow state only under the per-tab names, and the discovery document where storedJwksUri reads it', async () => {
    await startLogin();
    const perTab = Object.keys(stored(sessionStorage));
    // The per-tab names are the library's: the verifier, state and nonce of this login are among them.
    expect(perTab).toEqual(expect.arrayContaining(['codeVerifier', 'authStateControl', 'authNonce']));
    // The login wrote nothing else to the shared part: no flow entry escaped the list.
    expect(Object.keys(stored(localStorage))).toEqual(['authWellKnownEndPoints']);
    expect(storedJwksUri(stored(localStorage))).toBe(discovery.jwks_uri);
  });

  it('a login redirect writes exactly LOGIN_IN_FLIGHT_ENTRIES in the tab, which the next start that is not the return drops (a login left at the IdP)', async () => {
    await startLogin();
    expect(Object.keys(stored(sessionStorage)).sort()).toEqual([...LOGIN_IN_FLIGHT_ENTRIES].sort());
    await TestBed.inject(OidcAuthSession).initialize();
    expect(sessionStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
    expect(storedJwksUri(stored(localStorage)), 'the discovery document stays for other tabs\' logins').toBe(discovery.jwks_uri);
  });

  it('a finished login stores the session where hasStoredTokens and storedAccessTokenExpiry look, and formats times while validating (prepareDateFormatting)', async () => {
    await startLogin();
    const formatTime = vi.spyOn(Date.prototype, 'toLocaleTimeString');
    await finishLogin();
    expect(formatTime).toHaveBeenCalled();
    const shared = new SplitSecurityStorage().readShared(OIDC_CONFIG_ID);
    expect(hasStoredTokens(shared)).toBe(true);
    const expiry = storedAccessTokenExpiry(shared);
    expect(expiry).not.toBeNull();
    expect(Math.abs(expiry! - (Date.now() + 300_000))).toBeLessThan(60_000);
    // Whatever stays in the tab's part after the callback is a flow entry.
    for (const name of Object.keys(stored(sessionStorage))) expect(PER_TAB_ENTRIES.has(name), name).toBe(true);
  });

  it('a refresh runs under the Web Lock named refreshLockName', async () => {
    await startLogin();
    await finishLogin();
    const requested: string[] = [];
    Object.defineProperty(navigator, 'locks', {
      configurable: true,
      value: { request: (name: string, work: () => Promise<unknown>) => (requested.push(name), work()) },
    });
    const refreshed = firstValueFrom(oidc.forceRefreshSession());
    let done = false;
    void refreshed.finally(() => (done = true));
    const answer = await tokens(undefined, 'rt-2');
    // The library may fetch discovery and keys again around the token request: answer all of it.
    await vi.waitFor(() => {
      for (const request of backend.match(`${issuer}/.well-known/openid-configuration`)) request.flush(discovery);
      for (const request of backend.match(discovery.token_endpoint)) request.flush(answer);
      for (const request of backend.match(discovery.jwks_uri)) request.flush(key.jwks);
      expect(done).toBe(true);
    });
    expect((await refreshed).isAuthenticated).toBe(true);
    expect(requested).toEqual([refreshLockName(OIDC_CONFIG_ID)]);
  });

  it('following a logout in another tab (which removed the shared part), logoffLocal signs out and logoffLocalLeavingNothing leaves nothing stored', async () => {
    await startLogin();
    await finishLogin();
    const storage = TestBed.inject(SplitSecurityStorage);
    localStorage.removeItem(STORAGE_PREFIX + OIDC_CONFIG_ID);
    logoffLocalLeavingNothing(oidc, storage, OIDC_CONFIG_ID);
    expect(oidc.authenticated().isAuthenticated).toBe(false);
    expect(localStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
    expect(sessionStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
  });

  it('logout (OidcAuthSession): the revocation finds its endpoint and carries the refresh token, no token is stored while it waits for its answer, the end-session URL carries the ID token, and an unanswered revocation ends at the bound', async () => {
    await startLogin();
    await finishLogin();
    const { id_token: idToken } = (stored(localStorage) as { authnResult: { id_token: string } }).authnResult;
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const logout = TestBed.inject(OidcAuthSession).logout();
    const revocation = await vi.waitFor(() => backend.expectOne(discovery.revocation_endpoint));
    expect(new URLSearchParams(revocation.request.body as string).get('token')).toBe('rt-1');
    // The refresh token is 'rt-1' and the access token 'opaque-rt-1': while the revocation waits, neither is stored.
    await vi.waitFor(() => expect(oidc.authenticated().isAuthenticated).toBe(false));
    for (const storage of [localStorage, sessionStorage]) expect(JSON.stringify({ ...storage })).not.toContain('rt-1');
    logoutDeadline.abort();
    await logout;
    expect(navigatedTo).toHaveLength(1);
    const endSession = new URL(navigatedTo[0]!);
    expect(endSession.origin + endSession.pathname).toBe(discovery.end_session_endpoint);
    expect(endSession.searchParams.get('id_token_hint')).toBe(idToken);
    expect(localStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
    expect(sessionStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
  });

  it('a return checked with the address it came back with neither writes the address bar nor navigates, whether it is accepted or refused (takeCallbackUrl cleaned it)', async () => {
    const written = [vi.spyOn(history, 'replaceState'), vi.spyOn(history, 'pushState')];
    const navigated = vi.spyOn(TestBed.inject(Router), 'navigateByUrl');
    await startLogin();
    await finishLogin();
    // Refused: an ID token with another login's nonce.
    await startLogin();
    const { authStateControl: state } = stored(sessionStorage) as { authStateControl: string };
    let refused: { isAuthenticated: boolean } | undefined;
    void firstValueFrom(oidc.checkAuth(`${config.redirectUrl}/?code=the-code&state=${state}`)).then((r) => (refused = r), () => (refused = { isAuthenticated: false }));
    const answer = await tokens('another-login', 'rt-2');
    await vi.waitFor(() => {
      for (const request of backend.match(discovery.token_endpoint)) request.flush(answer);
      for (const request of backend.match(discovery.jwks_uri)) request.flush(key.jwks);
      expect(refused).toEqual(expect.objectContaining({ isAuthenticated: false }));
    });
    for (const write of written) expect(write).not.toHaveBeenCalled();
    expect(navigated).not.toHaveBeenCalled();
  });

  describe('a refresh that meets an outage of the IdP ends no session (refreshOutageInterceptor, decision 0067)', () => {
    const outages: Array<[string, number, object | string | null]> = [
      ['503 temporarily_unavailable (a restart)', 503, { error: 'temporarily_unavailable' }],
      ['502 from a gateway', 502, 'Bad Gateway'],
      ['429 (overloaded)', 429, { error: 'too_many_requests' }],
      ['400 server_error', 400, { error: 'server_error' }],
      ['no answer at all', 0, null],
    ];

    /** Answers the refresh grant sent to the token endpoint. */
    async function answerRefresh(status: number, body: object | string | null): Promise<void> {
      await vi.waitFor(() => {
        // The library may fetch discovery again before the token request.
        for (const request of backend.match(`${issuer}/.well-known/openid-configuration`)) request.flush(discovery);
        // Every refresh sent by then gets the same answer (on a busy machine a retry may be on its way too).
        const requests = backend.match(discovery.token_endpoint);
        expect(requests.length).toBeGreaterThan(0);
        for (const request of requests) {
          expect(new URLSearchParams(request.request.body as string).get('grant_type')).toBe('refresh_token');
          if (status === 0) request.error(new ProgressEvent('error'));
          else request.flush(body, { status, statusText: 'refused' });
        }
      });
    }

    const storedRefreshToken = () => (stored(localStorage)['authnResult'] as { refresh_token?: string } | undefined)?.refresh_token;

    beforeEach(() => {
      vi.spyOn(console, 'warn').mockImplementation(() => {});
      // The library's periodic token check (setInterval) never runs here: a test's session whose
      // access token is past would otherwise refresh on its own after the test, into the next one's storage.
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    });
    afterEach(() => vi.useRealTimers());

    it.each(outages)('"Renew now" answered %s: still signed in, the refresh token still stored', async (_name, status, body) => {
      await startLogin();
      await finishLogin();
      const session = TestBed.inject(OidcAuthSession);
      await session.initialize();
      expect(session.isAuthenticated()).toBe(true);
      const renewed = session.renew();
      await answerRefresh(status, body);
      await renewed;
      expect(storedRefreshToken()).toBe('rt-1');
      expect(session.isAuthenticated()).toBe(true);
      expect(session.problem()).toBeNull();
      expect(session.details()?.lastRenewal?.ok).toBe(false);
    });

    it.each(outages)('a start with an expired access token answered %s: still signed in as the user, saying the IdP cannot renew the session, the refresh token still stored, no API call sent with the dead token', async (_name, status, body) => {
      const session = await startHeldThroughOutage(status, body);
      expect(storedRefreshToken()).toBe('rt-1');
      expect(session.isAuthenticated()).toBe(true);
      expect(session.user()?.name).toBe('Alice');
      expect(session.problem()).toEqual({ kind: 'renewal-unavailable' });
      const call = session.callApi({ path: '/api/UserOne' }).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve));
      backend.expectNone(() => true);
      expect(await call).toMatchObject({ problem: { kind: 'renewal-unavailable' } });
    });

    /** A start whose access token expired while no tab was open, its refresh answered as an outage (decision 0076). */
    async function startHeldThroughOutage(status = 503, body: object | string | null = { error: 'temporarily_unavailable' }): Promise<OidcAuthSession> {
      await startLogin();
      await finishLogin();
      localStorage.setItem(STORAGE_PREFIX + OIDC_CONFIG_ID, JSON.stringify({ ...stored(localStorage), access_token_expires_at: Date.now() - 60_000 }));
      const session = TestBed.inject(OidcAuthSession);
      const started = session.initialize();
      await answerRefresh(status, body);
      await started;
      return session;
    }

    it('held through an outage, "Renew now" once the IdP answers signs in with the new tokens and the message goes', async () => {
      const session = await startHeldThroughOutage();
      const renewed = session.renew();
      const answer = await tokens(undefined, 'rt-2');
      await vi.waitFor(() => {
        for (const request of backend.match(`${issuer}/.well-known/openid-configuration`)) request.flush(discovery);
        for (const request of backend.match(discovery.token_endpoint)) request.flush(answer);
        for (const request of backend.match(discovery.jwks_uri)) request.flush(key.jwks);
        expect(storedRefreshToken()).toBe('rt-2');
      });
      await renewed;
      expect(session.isAuthenticated()).toBe(true);
      expect(session.problem()).toBeNull();
      expect(session.details()?.lastRenewal?.ok).toBe(true);
    });

    it('held through an outage, a refresh the IdP refuses (invalid_grant) ends the session, leaving nothing stored', async () => {
      const session = await startHeldThroughOutage();
      const renewed = session.renew();
      await answerRefresh(400, { error: 'invalid_grant' });
      await renewed;
      expect(session.isAuthenticated()).toBe(false);
      expect(session.problem()).toEqual({ kind: 'session-ended' });
      expect(localStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
    });

    it('held through an outage, logout revokes the stored refresh token; with no answer it signs out here without going to the IdP, and says the IdP session may remain', async () => {
      const session = await startHeldThroughOutage();
      const logout = session.logout();
      const revocation = await vi.waitFor(() => backend.expectOne(discovery.revocation_endpoint));
      expect(new URLSearchParams(revocation.request.body as string).get('token')).toBe('rt-1');
      // The IdP does not answer it (the library would try again): the logout's bound is up.
      logoutDeadline.abort();
      await logout;
      expect(navigatedTo).toEqual([]);
      expect(session.isAuthenticated()).toBe(false);
      expect(session.problem()).toEqual({ kind: 'signed-out-here-only' });
      expect(localStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
      expect(sessionStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
    });

    it('held through an outage, logout whose revocation is answered (the IdP is back) ends the IdP session as always', async () => {
      const session = await startHeldThroughOutage();
      const logout = session.logout();
      await respond(discovery.revocation_endpoint, {});
      await logout;
      expect(navigatedTo).toHaveLength(1);
      expect(navigatedTo[0]).toMatch(/^http:\/\/localhost:4400\/session\/end\?/);
      expect(localStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
    });

    it('a refresh the IdP refuses (invalid_grant) still ends the session, leaving nothing stored', async () => {
      await startLogin();
      await finishLogin();
      const session = TestBed.inject(OidcAuthSession);
      await session.initialize();
      const renewed = session.renew();
      await answerRefresh(400, { error: 'invalid_grant' });
      await renewed;
      expect(session.isAuthenticated()).toBe(false);
      expect(session.problem()).toEqual({ kind: 'session-ended' });
      expect(localStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
    });
  });
});
