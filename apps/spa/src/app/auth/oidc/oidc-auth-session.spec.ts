import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { signal, type Provider } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { EventTypes, OidcSecurityService, PublicEventsService, type AuthResult, type LoginResponse, type OidcClientNotification } from 'angular-auth-oidc-client';
import { firstValueFrom, NEVER, of, Subject, throwError, type Observable } from 'rxjs';
import { BrowserNavigation } from '../../core/browser-navigation';
import { TOKEN_MODE_CONFIG, type TokenModeConfig } from '../../core/runtime-config';
import { ApiError } from '../problem';
import { testRuntimeConfig } from '../../../testing/runtime-config';
import { LOGOUT_REVOCATION_DEADLINE, OIDC_CALLBACK_URL, OidcAuthSession } from './oidc-auth-session';
import { refreshLockName } from './library-internals';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import { SplitSecurityStorage, STORAGE_PREFIX } from './split-security-storage';

const config: TokenModeConfig = testRuntimeConfig;

function jwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${encode({ alg: 'RS256' })}.${encode(claims)}.signature`;
}

const now = Math.floor(Date.now() / 1000);
const idToken = jwt({ sub: 'auth0|alice', name: 'Alice Example', iat: now, auth_time: now - 60 });
const accessToken = jwt({ sub: 'auth0|alice', scope: 'auth0-user-api-spa', iat: now, exp: now + 300 });

/** The parts of OidcSecurityService the session uses, with a call log. */
class FakeOidc {
  readonly log: string[] = [];
  readonly authenticated = signal({ isAuthenticated: false, allConfigsAuthenticated: [] });
  refreshToken = 'rt-1';
  authResult: AuthResult | null = null;
  checkAuthResult: Partial<LoginResponse> = { isAuthenticated: false };
  revokeFails = false;
  revokeUnanswered = false;
  wellKnownFails = false;
  refreshResult: Partial<LoginResponse> = { isAuthenticated: true };
  /**
   * The IdP is out: a refresh fails as refreshOutageInterceptor makes it fail (the stored session
   * held, the library's state signed out, an error), and the tokens stay stored.
   */
  outage: (() => void) | null = null;

  signIn(): void {
    this.authResult = { id_token: idToken, access_token: accessToken, refresh_token: this.refreshToken, scope: 'openid auth0-user-api-spa' };
    this.authenticated.set({ isAuthenticated: true, allConfigsAuthenticated: [] });
  }
  getRefreshToken(): Observable<string> {
    return of(this.authResult ? this.refreshToken : '');
  }
  getAuthenticationResult(): Observable<AuthResult | null> {
    return of(this.authResult);
  }
  getAccessToken(): Observable<string> {
    return of(this.authResult?.access_token ?? '');
  }
  checkAuth(url?: string): Observable<Partial<LoginResponse>> {
    this.log.push(url === undefined ? 'checkAuth' : `checkAuth:${url}`);
    if (this.checkAuthResult.isAuthenticated) this.signIn();
    return of(this.checkAuthResult);
  }
  checkAuthIncludingServer(): Observable<Partial<LoginResponse>> {
    this.log.push('checkAuthIncludingServer');
    if (this.outage) return this.meetOutage();
    if (this.checkAuthResult.isAuthenticated) this.signIn();
    return of(this.checkAuthResult);
  }
  preloadAuthWellKnownDocument(): Observable<unknown> {
    this.log.push('preloadAuthWellKnownDocument');
    return this.wellKnownFails ? throwError(() => new Error('Status code: 0')) : of({});
  }
  authorize(): void {
    this.log.push('authorize');
  }
  revokeRefreshToken(token: string): Observable<unknown> {
    this.log.push(`revoke:${token}`);
    if (this.revokeUnanswered) return NEVER;
    return this.revokeFails ? throwError(() => new Error('revocation failed')) : of({});
  }
  logoff(_configId: string, options: { urlHandler(url: string): void }): Observable<unknown> {
    this.log.push('logoff');
    options.urlHandler('http://localhost:4400/session/end?id_token_hint=x&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A4200');
    this.authResult = null;
    this.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
    return of(null);
  }
  logoffLocal(): void {
    this.log.push('logoffLocal');
    this.authResult = null;
    this.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
  }
  meetOutage(): Observable<never> {
    this.outage?.();
    this.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
    return throwError(() => new Error('Status code: 503'));
  }
  forceRefreshSession(): Observable<Partial<LoginResponse>> {
    this.log.push('forceRefreshSession');
    if (this.outage) return this.meetOutage();
    if (!this.refreshResult.isAuthenticated) {
      this.authResult = null;
      this.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
    }
    return of(this.refreshResult);
  }
}

describe('OidcAuthSession', () => {
  let oidc: FakeOidc;
  let events: Subject<OidcClientNotification<unknown>>;
  let navigatedTo: string[];
  let session: OidcAuthSession;
  let backend: HttpTestingController;
  /** Ends a logout's wait for the refresh lock and the revocation (the bound's time is up). */
  let logoutDeadline: AbortController;

  beforeEach(() => {
    logoutDeadline = new AbortController();
    localStorage.clear();
    sessionStorage.clear();
    oidc = new FakeOidc();
    events = new Subject();
    navigatedTo = [];
    configure([]);
  });

  /** A session over the fake library, with `extra` providers. */
  function configure(extra: Provider[]): void {
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(),
        provideHttpClientTesting(),
        OidcAuthSession,
        { provide: TOKEN_MODE_CONFIG, useValue: config },
        { provide: OidcSecurityService, useValue: oidc },
        { provide: PublicEventsService, useValue: { registerForEvents: () => events.asObservable() } },
        { provide: BrowserNavigation, useValue: { assign: (url: string) => navigatedTo.push(url) } },
        { provide: LOGOUT_REVOCATION_DEADLINE, useValue: () => logoutDeadline.signal },
        ...extra,
      ],
    });
    session = TestBed.inject(OidcAuthSession);
    backend = TestBed.inject(HttpTestingController);
  }

  afterEach(() => {
    backend.verify();
    Reflect.deleteProperty(navigator, 'locks');
  });

  it('is initializing until initialize() has run, then anonymous without tokens', async () => {
    expect(session.status()).toBe('initializing');
    oidc.refreshToken = '';
    await session.initialize();
    expect(session.status()).toBe('anonymous');
    expect(session.user()).toBeNull();
    expect(oidc.log).toEqual(['checkAuth']);
  });

  it('checks a return from the IdP once, with the address it came back with (the address bar no longer has it)', async () => {
    const callbackUrl = 'http://localhost:4200/?code=abc&state=xyz';
    configure([{ provide: OIDC_CALLBACK_URL, useValue: callbackUrl }]);
    oidc.refreshToken = '';
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    expect(session.status()).toBe('authenticated');
    await session.initialize();
    expect(oidc.log).toEqual([`checkAuth:${callbackUrl}`, 'checkAuth']);
  });

  it('uses the refresh token on start-up when there is one (reload after expiry)', async () => {
    oidc.signIn();
    oidc.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    expect(oidc.log).toEqual(['checkAuthIncludingServer']);
    expect(session.status()).toBe('authenticated');
    expect(session.user()).toMatchObject({ sub: 'auth0|alice', name: 'Alice Example' });
  });

  it('a stored session the IdP no longer renews has ended; an IdP that does not answer is named', async () => {
    oidc.signIn();
    oidc.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
    oidc.checkAuthResult = { isAuthenticated: false, errorMessage: 'invalid_grant' };
    const discovery = vi.fn(async (_url: RequestInfo | URL) => new Response('{}', { status: 200 }));
    vi.stubGlobal('fetch', discovery);
    await session.initialize();
    expect(String(discovery.mock.calls[0]?.[0])).toBe('http://localhost:4400/.well-known/openid-configuration');
    expect(session.problem()).toEqual({ kind: 'session-ended' });
    expect(session.status()).toBe('anonymous');

    vi.stubGlobal('fetch', vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }));
    await session.initialize();
    expect(session.problem()).toEqual({ kind: 'idp-unreachable' });
    vi.unstubAllGlobals();
  });

  it('a session that ends without a logout (refused at start-up or at a renewal) leaves nothing of ours stored, unless another tab stored a session meanwhile', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 200 })));
    // What the library leaves after dropping the tokens: the discovery document, the refresh's flow entries.
    const leftByTheLibrary = () => {
      localStorage.setItem(`${STORAGE_PREFIX}spa`, '{"authWellKnownEndPoints":{"issuer":"http://localhost:4400"}}');
      sessionStorage.setItem(`${STORAGE_PREFIX}spa`, '{"authNonce":"--RefreshToken--","authStateControl":"s"}');
    };
    localStorage.setItem('not-ours', 'stays');

    oidc.signIn();
    oidc.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
    oidc.checkAuthIncludingServer = () => {
      oidc.authResult = null;
      leftByTheLibrary();
      return of({ isAuthenticated: false, errorMessage: 'invalid_grant' });
    };
    await session.initialize();
    expect(session.problem()).toEqual({ kind: 'session-ended' });
    expect([localStorage.getItem(`${STORAGE_PREFIX}spa`), sessionStorage.getItem(`${STORAGE_PREFIX}spa`)], 'at start-up').toEqual([null, null]);

    oidc = new FakeOidc();
    configure([]);
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    leftByTheLibrary();
    oidc.refreshResult = { isAuthenticated: false };
    await session.renew();
    expect(session.problem()).toEqual({ kind: 'session-ended' });
    expect([localStorage.getItem(`${STORAGE_PREFIX}spa`), sessionStorage.getItem(`${STORAGE_PREFIX}spa`)], 'at a renewal').toEqual([null, null]);
    expect(localStorage.getItem('not-ours')).toBe('stays');

    // Another tab signed in meanwhile: its session stays.
    oidc = new FakeOidc();
    configure([]);
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    localStorage.setItem(`${STORAGE_PREFIX}spa`, '{"authnResult":{},"authzData":"at"}');
    oidc.refreshResult = { isAuthenticated: false };
    await session.renew();
    expect(localStorage.getItem(`${STORAGE_PREFIX}spa`)).toBe('{"authnResult":{},"authzData":"at"}');
    warn.mockRestore();
    vi.unstubAllGlobals();
  });

  it('a refused return from the IdP shows a generic message, never text from the callback URL', async () => {
    // The library puts the callback's `state` (and `error`) into its error messages; an attacker
    // chooses both by sending the victim to /?code=x&state=<text>.
    const hostile = 'Your account is locked, call +1 555 0100 <img src=x onerror=alert(1)>';
    oidc.refreshToken = '';
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 200 })));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    oidc.checkAuthResult = { isAuthenticated: false, errorMessage: `could not find matching config for state ${hostile}` };
    await session.initialize();
    expect(session.problem()).toEqual({ kind: 'sign-in-failed' });

    oidc.checkAuth = () => throwError(() => new Error(`AuthCallback AuthResult came with error: ${hostile}`));
    await session.initialize();
    expect(session.problem()).toEqual({ kind: 'sign-in-failed' });
    warn.mockRestore();
    vi.unstubAllGlobals();
  });

  it('a refused return from the IdP (a replayed or forged callback link) leaves a stored session signed in, with no message', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const discovery = vi.fn(async () => new Response('{}', { status: 200 }));
    vi.stubGlobal('fetch', discovery);
    const refusals: Array<[string, () => Observable<Partial<LoginResponse>>]> = [
      ['a state this tab did not send', () => throwError(() => new Error('could not find matching config for state junk'))],
      ['an error answer', () => of({ isAuthenticated: false, errorMessage: 'AuthCallback AuthResult came with error: access_denied' })],
    ];
    for (const [why, refusal] of refusals) {
      oidc = new FakeOidc();
      const callbackUrl = 'http://localhost:4200/?code=junk&state=junk';
      configure([{ provide: OIDC_CALLBACK_URL, useValue: callbackUrl }]);
      oidc.signIn();
      oidc.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
      oidc.checkAuthResult = { isAuthenticated: true };
      const checkStored = oidc.checkAuth.bind(oidc);
      oidc.checkAuth = (url?: string) => (url === callbackUrl ? refusal() : checkStored(url));
      await session.initialize();
      expect(oidc.log, why).toEqual(['checkAuthIncludingServer']);
      expect(session.status(), why).toBe('authenticated');
      expect(session.user()?.sub, why).toBe('auth0|alice');
      expect(session.problem(), why).toBeNull();
    }
    expect(discovery).not.toHaveBeenCalled();

    // Without a stored session the refusal is what the user sees.
    oidc = new FakeOidc();
    configure([{ provide: OIDC_CALLBACK_URL, useValue: 'http://localhost:4200/?code=junk&state=junk' }]);
    oidc.refreshToken = '';
    oidc.checkAuth = (url?: string) => (url ? throwError(() => new Error('could not find matching config for state junk')) : of({ isAuthenticated: false }));
    await session.initialize();
    expect(session.status()).toBe('anonymous');
    expect(session.problem()).toEqual({ kind: 'sign-in-failed' });
    warn.mockRestore();
    vi.unstubAllGlobals();
  });

  it('exposes scopes and the access token\'s timing', async () => {
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    const details = session.details()!;
    expect(details.scopes).toEqual(['openid', 'auth0-user-api-spa']);
    expect(details.accessTokenExpiresAt).toBe((now + 300) * 1000);
    expect(details.renewsAt).toBe((now + 300 - 30) * 1000);
    expect(details.accessTokenIssuedAt).toBe(now * 1000);
    expect(details.loggedInAt).toBe((now - 60) * 1000);
  });

  it('says the IdP is unreachable instead of redirecting when it does not answer', async () => {
    await session.initialize();
    oidc.wellKnownFails = true;
    await session.login();
    expect(oidc.log).not.toContain('authorize');
    expect(session.problem()).toEqual({ kind: 'idp-unreachable' });
    oidc.wellKnownFails = false;
    await session.login();
    expect(oidc.log).toContain('authorize');
    expect(session.problem()).toBeNull();
  });

  it('logout revokes the refresh token, ends the IdP session and clears every stored value', async () => {
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    localStorage.setItem(`${STORAGE_PREFIX}spa`, '{"authnResult":{}}');
    sessionStorage.setItem(`${STORAGE_PREFIX}spa`, '{"codeVerifier":"v"}');
    localStorage.setItem('not-ours', 'stays');
    await session.logout();
    // The revocation leaves, then the session ends here (the library removes its tokens) before its answer.
    expect(oidc.log.slice(-3)).toEqual(['revoke:rt-1', 'logoff', 'logoffLocal']);
    expect(navigatedTo).toEqual([expect.stringMatching(/^http:\/\/localhost:4400\/session\/end\?/)]);
    expect(localStorage.getItem(`${STORAGE_PREFIX}spa`)).toBeNull();
    expect(sessionStorage.getItem(`${STORAGE_PREFIX}spa`)).toBeNull();
    expect(localStorage.getItem('not-ours')).toBe('stays');
    expect(session.isAuthenticated()).toBe(false);
  });

  it('logout still completes when the revocation fails', async () => {
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    oidc.revokeFails = true;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await session.logout();
    expect(oidc.log.slice(-3)).toEqual(['revoke:rt-1', 'logoff', 'logoffLocal']);
    expect(navigatedTo).toHaveLength(1);
    expect(warn).toHaveBeenCalled();
    expect(JSON.stringify(warn.mock.calls)).not.toContain('rt-1');
    warn.mockRestore();
  });

  describe('logout does not wait for ever', () => {
    beforeEach(async () => {
      oidc.checkAuthResult = { isAuthenticated: true };
      await session.initialize();
      localStorage.setItem(`${STORAGE_PREFIX}spa`, '{"authnResult":{}}');
      vi.spyOn(console, 'warn').mockImplementation(() => {});
    });

    afterEach(() => vi.restoreAllMocks());

    function expectLoggedOut(): void {
      expect(navigatedTo).toEqual([expect.stringMatching(/^http:\/\/localhost:4400\/session\/end\?/)]);
      expect(localStorage.getItem(`${STORAGE_PREFIX}spa`)).toBeNull();
      expect(session.isAuthenticated()).toBe(false);
    }

    it('an IdP that never answers the revocation: the logout ends when the bound is up', async () => {
      oidc.revokeUnanswered = true;
      const logout = session.logout();
      // While the revocation waits for its answer, the session has ended here.
      await vi.waitFor(() => expect(oidc.log).toContain('logoffLocal'));
      expect(session.isAuthenticated()).toBe(false);
      logoutDeadline.abort();
      await logout;
      expectLoggedOut();
    });

    it('another tab holding the refresh lock for ever: the logout ends when the bound is up, without revoking', async () => {
      const requested: string[] = [];
      Object.defineProperty(navigator, 'locks', {
        configurable: true,
        // A lock held elsewhere: never granted; the request is dropped when its signal aborts.
        value: {
          request: (name: string, options: { signal?: AbortSignal }) => {
            requested.push(name);
            return new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal?.reason)));
          },
        },
      });
      const logout = session.logout();
      await vi.waitFor(() => expect(requested).toEqual([refreshLockName(OIDC_CONFIG_ID)]));
      logoutDeadline.abort();
      await logout;
      expectLoggedOut();
      expect(oidc.log.filter((entry) => entry.startsWith('revoke:'))).toEqual([]);
    });
  });

  it('renew records the outcome, and a refused renewal ends the session', async () => {
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    await session.renew();
    expect(session.details()?.lastRenewal?.ok).toBe(true);
    oidc.refreshResult = { isAuthenticated: false, errorMessage: 'invalid_grant' };
    await session.renew();
    expect(session.isAuthenticated()).toBe(false);
    expect(session.problem()).toEqual({ kind: 'session-ended' });
  });

  it('records renewals the library runs on its own', async () => {
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    events.next({ type: EventTypes.NewAuthenticationResult, value: { isAuthenticated: true, isRenewProcess: true } });
    await Promise.resolve();
    expect(session.details()?.lastRenewal?.ok).toBe(true);
  });

  describe('callApi', () => {
    beforeEach(async () => {
      oidc.checkAuthResult = { isAuthenticated: true };
      await session.initialize();
    });

    it('calls the API below its base URL', async () => {
      const answer = session.callApi<string[]>({ path: '/api/UserOne' });
      backend.expectOne('http://localhost:5001/api/UserOne').flush(['user one data']);
      expect(await answer).toEqual(['user one data']);
    });

    it('turns 403 into "forbidden"', async () => {
      const answer = session.callApi({ path: '/api/UserOne' });
      backend.expectOne('http://localhost:5001/api/UserOne').flush({ detail: 'insufficient_scope' }, { status: 403, statusText: 'Forbidden' });
      const error = await answer.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).problem.kind).toBe('forbidden');
    });

    it('turns no answer into "api-unreachable"', async () => {
      const answer = session.callApi({ path: '/api/UserOne' });
      backend.expectOne('http://localhost:5001/api/UserOne').error(new ProgressEvent('error'), { status: 0 });
      expect(((await answer.catch((e: unknown) => e)) as ApiError).problem.kind).toBe('api-unreachable');
    });

    it('on 401 renews once and retries', async () => {
      const answer = session.callApi({ path: '/api/notes' });
      backend.expectOne('http://localhost:5001/api/notes').flush({}, { status: 401, statusText: 'Unauthorized' });
      await vi.waitFor(() => backend.expectOne('http://localhost:5001/api/notes').flush([]));
      expect(await answer).toEqual([]);
      expect(oidc.log).toContain('forceRefreshSession');
    });

    it('on 401 with a refused renewal reports the session as ended', async () => {
      oidc.refreshResult = { isAuthenticated: false };
      const answer = session.callApi({ path: '/api/notes' });
      backend.expectOne('http://localhost:5001/api/notes').flush({}, { status: 401, statusText: 'Unauthorized' });
      expect(((await answer.catch((e: unknown) => e)) as ApiError).problem.kind).toBe('session-ended');
      expect(session.problem()).toEqual({ kind: 'session-ended' });
    });
  });

  describe('through an outage of the IdP once the access token is past (decision 0076)', () => {
    beforeEach(() => {
      vi.useFakeTimers();
      vi.spyOn(console, 'warn').mockImplementation(() => {});
      // A session stored by an earlier start; its access token has expired since.
      oidc.signIn();
      oidc.authenticated.set({ isAuthenticated: false, allConfigsAuthenticated: [] });
      localStorage.setItem(STORAGE_PREFIX + OIDC_CONFIG_ID, JSON.stringify({ authnResult: oidc.authResult, authzData: accessToken }));
      oidc.outage = () => TestBed.inject(SplitSecurityStorage).holdShared();
    });
    afterEach(() => vi.useRealTimers());

    async function start(): Promise<void> {
      const started = session.initialize();
      await vi.advanceTimersByTimeAsync(0);
      await started;
    }
    const refreshes = () => oidc.log.filter((entry) => entry === 'checkAuthIncludingServer').length;

    it('stays signed in as the user saying so, calls no API with the dead token, retries after 5 s (not before) and carries on by itself once the IdP answers', async () => {
      await start();
      expect(session.status()).toBe('authenticated');
      expect(session.user()?.name).toBe('Alice Example');
      expect(session.problem()).toEqual({ kind: 'renewal-unavailable' });
      const call = session.callApi({ path: '/api/UserOne' }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(0);
      backend.expectNone('http://localhost:5001/api/UserOne');
      expect(((await call) as ApiError).problem.kind).toBe('renewal-unavailable');
      // Still out at the first retry: tried at 5 s, then 10 s later.
      expect(refreshes()).toBe(1);
      await vi.advanceTimersByTimeAsync(4_999);
      expect(refreshes()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(refreshes()).toBe(2);
      // The failed retry takes the stored session up again in a timer turn of its own (after the
      // library's clean-up), 1 ms on this clock, and schedules the next try from there.
      await vi.advanceTimersByTimeAsync(1);
      expect(session.status()).toBe('authenticated');
      expect(session.problem()).toEqual({ kind: 'renewal-unavailable' });
      // The IdP answers again.
      oidc.outage = null;
      oidc.checkAuthResult = { isAuthenticated: true };
      await vi.advanceTimersByTimeAsync(9_999);
      expect(refreshes()).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(refreshes()).toBe(3);
      expect(session.isAuthenticated()).toBe(true);
      expect(session.problem()).toBeNull();
      const answer = session.callApi<string[]>({ path: '/api/UserOne' });
      backend.expectOne('http://localhost:5001/api/UserOne').flush(['user one data']);
      expect(await answer).toEqual(['user one data']);
    });

    it('a retry the IdP refuses ends the session, leaving nothing stored', async () => {
      await start();
      oidc.outage = null;
      oidc.checkAuthResult = { isAuthenticated: false };
      oidc.authResult = null;
      await vi.advanceTimersByTimeAsync(5_000);
      expect(session.isAuthenticated()).toBe(false);
      expect(session.problem()).toEqual({ kind: 'session-ended' });
    });

    it('logout revokes the refresh token; unanswered, it signs out here without sending the browser to the IdP', async () => {
      await start();
      oidc.revokeUnanswered = true;
      const logout = session.logout();
      await vi.advanceTimersByTimeAsync(0);
      expect(oidc.log).toContain('revoke:rt-1');
      logoutDeadline.abort();
      await logout;
      expect(navigatedTo).toEqual([]);
      expect(session.isAuthenticated()).toBe(false);
      expect(session.problem()).toEqual({ kind: 'signed-out-here-only' });
      expect(localStorage.getItem(STORAGE_PREFIX + OIDC_CONFIG_ID)).toBeNull();
      // No retry after the logout.
      await vi.advanceTimersByTimeAsync(60_000);
      expect(refreshes()).toBe(1);
    });
  });

  it('a 401 whose renewal meets an outage (the access token still good by the clock) is not sent again and ends nothing', async () => {
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    oidc.outage = () => TestBed.inject(SplitSecurityStorage).holdShared();
    const answer = session.callApi({ path: '/api/notes' });
    backend.expectOne('http://localhost:5001/api/notes').flush({}, { status: 401, statusText: 'Unauthorized' });
    const error = await answer.catch((e: unknown) => e);
    expect((error as ApiError).problem.kind).toBe('renewal-unavailable');
    backend.expectNone('http://localhost:5001/api/notes');
    expect(session.isAuthenticated()).toBe(true);
    expect(session.problem()).toBeNull();
  });

  it('follows a logout in another tab', async () => {
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    localStorage.removeItem(`${STORAGE_PREFIX}spa`);
    window.dispatchEvent(new StorageEvent('storage', { key: `${STORAGE_PREFIX}spa`, newValue: null }));
    await vi.waitFor(() => expect(oidc.log).toContain('logoffLocal'));
    expect(session.isAuthenticated()).toBe(false);
  });

  it('after following a logout in another tab, leaves nothing stored (the library writes back what it keeps)', async () => {
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    const key = `${STORAGE_PREFIX}spa`;
    const logoffLocal = oidc.logoffLocal.bind(oidc);
    oidc.logoffLocal = () => {
      logoffLocal();
      localStorage.setItem(key, JSON.stringify({ authWellKnownEndPoints: { jwksUri: 'http://localhost:4400/jwks' } }));
      sessionStorage.setItem(key, JSON.stringify({ storageSilentRenewRunning: '' }));
    };
    localStorage.removeItem(key);
    window.dispatchEvent(new StorageEvent('storage', { key, newValue: null }));
    await vi.waitFor(() => expect(oidc.log).toContain('logoffLocal'));
    expect(localStorage.getItem(key)).toBeNull();
    expect(sessionStorage.getItem(key)).toBeNull();
  });

  it('hands the interceptor the library\'s access token, and none when signed out', async () => {
    expect(await firstValueFrom(session.accessToken())).toBe('');
    oidc.checkAuthResult = { isAuthenticated: true };
    await session.initialize();
    expect(await firstValueFrom(session.accessToken())).toBe(accessToken);
  });

  it('keeps the storage it uses split: the session in localStorage', () => {
    expect(TestBed.inject(SplitSecurityStorage)).toBeInstanceOf(SplitSecurityStorage);
  });
});
