import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { computed, DestroyRef, inject, Injectable, InjectionToken, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { EventTypes, OidcSecurityService, PublicEventsService, type AuthResult, type LoginResponse } from 'angular-auth-oidc-client';
import { filter, firstValueFrom, fromEvent, type Observable } from 'rxjs';
import { apiRequestUrl } from '../../core/api-paths';
import { BrowserNavigation } from '../../core/browser-navigation';
import { TOKEN_MODE_CONFIG } from '../../core/runtime-config';
import { AuthSession, type ApiRequest, type AuthStatus, type AuthUser, type RenewalRecord, type SessionDetails } from '../auth-session';
import { claimTime, decodeJwtPayload } from '../jwt-claims';
import { ApiError, errorBodyDetail, problemForStatus, type Problem } from '../problem';
import type { AccessTokenSource } from './access-token-source';
import { hasStoredTokens, LOGIN_IN_FLIGHT_ENTRIES, logoffLocalLeavingNothing, refreshLockName, storedAccessTokenExpiry } from './library-internals';
import { IDP_OUTAGE_RETRY_MS, LOGOUT_REVOCATION_WAIT_MS, OIDC_CONFIG_ID } from './oidc-config';
import { SplitSecurityStorage } from './split-security-storage';

/**
 * On a return from the IdP, the address it came back with: the address bar no longer holds it
 * (takeCallbackUrl, at start-up), so the library is given it to check. Null on any other start.
 */
export const OIDC_CALLBACK_URL = new InjectionToken<string | null>('OIDC_CALLBACK_URL');

/**
 * When a logout stops waiting for the refresh lock and the revocation's answer: a signal that
 * aborts LOGOUT_REVOCATION_WAIT_MS after the logout starts (tests abort it themselves).
 */
export const LOGOUT_REVOCATION_DEADLINE = new InjectionToken<() => AbortSignal>('LOGOUT_REVOCATION_DEADLINE', {
  providedIn: 'root',
  factory: () => () => AbortSignal.timeout(LOGOUT_REVOCATION_WAIT_MS),
});

interface TokenSnapshot {
  readonly idClaims: Record<string, unknown> | null;
  readonly accessClaims: Record<string, unknown> | null;
  readonly scope: string | undefined;
  readonly expiresAt: number | null;
}

/** AuthSession over angular-auth-oidc-client: code flow + PKCE, rotating refresh tokens in the browser. */
@Injectable()
export class OidcAuthSession extends AuthSession implements AccessTokenSource {
  private readonly oidc = inject(OidcSecurityService);
  private readonly events = inject(PublicEventsService);
  private readonly http = inject(HttpClient);
  private readonly config = inject(TOKEN_MODE_CONFIG);
  private readonly storage = inject(SplitSecurityStorage);
  private readonly navigation = inject(BrowserNavigation);
  private callbackUrl = inject(OIDC_CALLBACK_URL, { optional: true });
  private readonly logoutDeadline = inject(LOGOUT_REVOCATION_DEADLINE);

  private readonly ready = signal(false);
  private readonly tokens = signal<TokenSnapshot | null>(null);
  private readonly lastRenewal = signal<RenewalRecord | null>(null);
  private readonly problemState = signal<Problem | null>(null);
  /**
   * Signed in through an outage of the IdP (decision 0076): the access token is past, the refresh
   * token kept, and a refresh met no answer, a 5xx or the like. The library counts the tab signed
   * out; this class keeps the user, calls no API with the dead token, and retries the renewal.
   */
  private readonly heldThroughOutage = signal(false);
  /** How many refreshes of this class's own (start, renew(), a retry) are under way. */
  private ownRefreshes = 0;
  /** The next try after refreshes met an outage of the IdP, and how many tries met one in a row. */
  private outageRetry: { timer: ReturnType<typeof setTimeout> | undefined; failures: number } = { timer: undefined, failures: 0 };

  override readonly problem = this.problemState.asReadonly();
  override readonly isAuthenticated = computed(() => this.ready() && (this.oidc.authenticated().isAuthenticated || this.heldThroughOutage()) && this.tokens() !== null);
  override readonly status = computed<AuthStatus>(() => (!this.ready() ? 'initializing' : this.isAuthenticated() ? 'authenticated' : 'anonymous'));
  override readonly user = computed<AuthUser | null>(() => {
    const claims = this.isAuthenticated() ? this.tokens()?.idClaims : null;
    if (!claims || typeof claims['sub'] !== 'string') return null;
    const name = [claims['name'], claims['nickname'], claims['preferred_username'], claims['sub']].find((v) => typeof v === 'string' && v !== '');
    const email = typeof claims['email'] === 'string' ? claims['email'] : undefined;
    return { sub: claims['sub'], name: name as string, ...(email ? { email } : {}), claims };
  });
  override readonly details = computed<SessionDetails | null>(() => {
    const tokens = this.tokens();
    if (!this.isAuthenticated() || !tokens) return null;
    const scope = tokens.scope ?? (typeof tokens.accessClaims?.['scope'] === 'string' ? tokens.accessClaims['scope'] : '');
    const expiresAt = tokens.expiresAt;
    return {
      scopes: scope.split(' ').filter((s) => s !== ''),
      loggedInAt: claimTime(tokens.idClaims, 'auth_time') ?? claimTime(tokens.idClaims, 'iat'),
      accessTokenIssuedAt: claimTime(tokens.accessClaims, 'iat'),
      accessTokenExpiresAt: expiresAt,
      renewsAt: expiresAt === null ? null : expiresAt - this.config.renewBeforeExpirySeconds * 1000,
      lastRenewal: this.lastRenewal(),
    };
  });

  constructor() {
    super();
    const destroyRef = inject(DestroyRef);
    destroyRef.onDestroy(() => clearTimeout(this.outageRetry.timer));
    this.events
      .registerForEvents()
      .pipe(takeUntilDestroyed(destroyRef))
      .subscribe((event) => {
        if (event.type === EventTypes.NewAuthenticationResult && event.value?.isRenewProcess) {
          this.lastRenewal.set({ at: Date.now(), ok: event.value.isAuthenticated === true });
        } else if (event.type === EventTypes.SilentRenewFailed) {
          this.lastRenewal.set({ at: Date.now(), ok: false, detail: errorText(event.value) });
        }
        if ([EventTypes.NewAuthenticationResult, EventTypes.SilentRenewFailed, EventTypes.TokenExpired].includes(event.type)) {
          // A renewal of the library's own that met an outage ends in SilentRenewFailed; this class's own refreshes see to theirs.
          const own = event.type === EventTypes.SilentRenewFailed && this.ownRefreshes === 0;
          const outage = own ? this.keepSessionThroughOutage() : Promise.resolve(null);
          void outage.then(() => this.readTokens()).then(() => this.noticeEndedSession());
        }
      });
    // Another tab refreshed, logged in or logged out: the session is shared, follow it.
    fromEvent<StorageEvent>(window, 'storage')
      .pipe(filter((event) => this.storage.isOwnKey(event.key)), takeUntilDestroyed(destroyRef))
      .subscribe(() => void this.followOtherTab());
  }

  /**
   * Any other start first drops what a login left in this tab's storage (the user came back from
   * the IdP's login page without signing in): its PKCE verifier and state are not kept, and its
   * "code flow under way" flag would keep the library from ever renewing in this tab.
   * A return from the IdP is checked once, with the address it came back with. One that fails
   * (a state this tab did not send: a replayed or forged callback link, an error answer) does
   * not decide the outcome when a session is stored: that session is restored as on any start,
   * and only a start that ends signed out shows why.
   */
  override async initialize(): Promise<void> {
    let hasRefreshToken = false;
    try {
      hasRefreshToken = !!(await firstValueFrom(this.oidc.getRefreshToken()));
      const callbackUrl = this.callbackUrl;
      this.callbackUrl = null;
      // Not the return from the IdP: a login this tab started was left there.
      if (!callbackUrl) this.storage.dropPerTab(OIDC_CONFIG_ID, LOGIN_IN_FLIGHT_ENTRIES);
      let callbackError: string | undefined;
      let result: LoginResponse | undefined;
      if (callbackUrl) {
        try {
          result = await firstValueFrom(this.oidc.checkAuth(callbackUrl));
          if (!result.isAuthenticated) callbackError = result.errorMessage ?? 'the return from the IdP was refused';
        } catch (error) {
          callbackError = errorText(error);
        }
      }
      // With an expired access token, checkAuth() alone reports signed-out; this one also refreshes.
      let outage = false;
      if (hasRefreshToken && !result?.isAuthenticated) {
        let failure: unknown = null;
        try {
          result = await this.ownRefresh(() => firstValueFrom(this.oidc.checkAuthIncludingServer()));
        } catch (error) {
          failure = error;
        }
        const kept = await this.keepSessionThroughOutage();
        if (kept) [result, outage] = [kept, true];
        else if (failure !== null) throw failure;
      }
      result ??= await firstValueFrom(this.oidc.checkAuth());
      if (outage) {
        // keepSessionThroughOutage said why when the tab starts signed out.
      } else if (!result.isAuthenticated && (callbackError || result.errorMessage || hasRefreshToken)) {
        this.problemState.set(await this.diagnose(callbackError ?? result.errorMessage ?? '', hasRefreshToken));
      } else if (callbackError) {
        console.warn('[auth] a return from the IdP was refused; the stored session stays:', callbackError);
      }
    } catch (error) {
      this.problemState.set(await this.diagnose(errorText(error), hasRefreshToken));
    }
    await this.readTokens();
    if (hasRefreshToken) this.leaveNothingOfEndedSession();
    this.ready.set(true);
  }

  override async login(): Promise<void> {
    this.problemState.set(null);
    try {
      await firstValueFrom(this.oidc.preloadAuthWellKnownDocument());
    } catch {
      this.problemState.set({ kind: 'idp-unreachable' });
      return;
    }
    this.oidc.authorize();
  }

  /**
   * Under the refresh lock (no other tab rotates the refresh token in between): the revocation
   * leaves, then the session ends in this browser before its answer (the tokens leave storage: a
   * tab closed meanwhile keeps nothing, other tabs sign out at once), then RP-initiated logout.
   * Waiting for the lock and the revocation is bounded (LOGOUT_REVOCATION_WAIT_MS): an IdP that
   * never answers, or another tab's refresh that never ends, cannot keep the user signed in. A
   * revocation that fails or is not answered in time is logged and the logout goes on (the
   * end-session request revokes the grant too, and JWT access tokens cannot be revoked anyway).
   * Signed in through an outage (decision 0076), a revocation that gets no answer either ends the
   * logout here, signed out without going to the IdP, whose end-session page would not load.
   */
  override async logout(): Promise<void> {
    this.storage.releaseShared();
    // Signed in through an outage of the IdP (decision 0076).
    const heldThroughOutage = this.heldThroughOutage();
    const deadline = this.logoutDeadline();
    let endSessionUrl: string | null = null;
    let endedHere = false;
    let revocationAnswered = false;
    const endHere = async () => {
      if (endedHere) return;
      endedHere = true;
      try {
        await firstValueFrom(this.oidc.logoff(OIDC_CONFIG_ID, { urlHandler: (url) => (endSessionUrl = url) }), { defaultValue: null });
      } catch (error) {
        console.warn('[auth] building the end-session request failed:', errorText(error));
      }
      // logoff() leaves the tokens stored when it has no end-session URL to build.
      this.oidc.logoffLocal(OIDC_CONFIG_ID);
    };
    try {
      await this.withRefreshLock(async () => {
        const refreshToken = await firstValueFrom(this.oidc.getRefreshToken());
        // Sent before the local logoff changes the storage it reads its endpoint from.
        const revoked = refreshToken
          ? firstValueFrom(this.oidc.revokeRefreshToken(refreshToken), { defaultValue: null }).then(() => void (revocationAnswered = true))
          : Promise.resolve();
        revoked.catch(() => {});
        await endHere();
        await untilAborted(revoked, deadline);
      }, deadline);
    } catch (error) {
      console.warn('[auth] refresh-token revocation failed or was not answered in time; logging out anyway:', errorText(error));
    }
    await endHere();
    this.storage.clear();
    clearTimeout(this.outageRetry.timer);
    this.heldThroughOutage.set(false);
    this.tokens.set(null);
    if (heldThroughOutage && !revocationAnswered) {
      // The IdP is still out: its end-session page would be the browser's error page. Signed out
      // here (nothing stored, every tab follows), and told that the IdP's own session may remain.
      this.problemState.set({ kind: 'signed-out-here-only' });
      return;
    }
    this.navigation.assign(endSessionUrl ?? this.config.redirectUrl);
  }

  override async renew(): Promise<void> {
    // Held through an outage, the library counts the tab signed out: renewed as the retry does.
    if (this.heldThroughOutage()) {
      clearTimeout(this.outageRetry.timer);
      await this.retryAfterOutage();
      if (this.heldThroughOutage()) this.lastRenewal.set({ at: Date.now(), ok: false, detail: 'the identity provider cannot be reached' });
      return;
    }
    try {
      const result = await this.ownRefresh(() => firstValueFrom(this.oidc.forceRefreshSession(), { defaultValue: null }));
      this.lastRenewal.set({ at: Date.now(), ok: !!result?.isAuthenticated, ...(result?.errorMessage ? { detail: result.errorMessage } : {}) });
    } catch (error) {
      this.lastRenewal.set({ at: Date.now(), ok: false, detail: errorText(error) });
    }
    await this.keepSessionThroughOutage();
    await this.readTokens();
    this.noticeEndedSession();
  }

  override async callApi<T>(request: ApiRequest): Promise<T> {
    // Its access token is past and the IdP cannot renew it now: not sent (the API would answer 401).
    if (this.heldThroughOutage()) throw new ApiError({ kind: 'renewal-unavailable' }, -1);
    try {
      return await this.send<T>(request);
    } catch (error) {
      // A token that died early (clock, revocation, sleep) gets one renewal and one retry.
      if (error instanceof HttpErrorResponse && error.status === 401 && (await firstValueFrom(this.oidc.getRefreshToken()))) {
        await this.renew();
        // The renewal met an outage: the same token again would get the same 401, which is no end of the session.
        if (this.isAuthenticated() && (this.heldThroughOutage() || this.lastRenewal()?.ok === false)) throw new ApiError({ kind: 'renewal-unavailable' }, -1);
        if (this.isAuthenticated()) {
          try {
            return await this.send<T>(request);
          } catch (retryError) {
            throw this.toApiError(retryError);
          }
        }
      }
      throw this.toApiError(error);
    }
  }

  override dismissProblem(): void {
    this.problemState.set(null);
  }

  accessToken(): Observable<string> {
    return this.oidc.getAccessToken();
  }

  private send<T>(request: ApiRequest): Promise<T> {
    const url = apiRequestUrl(this.config.apiUrl, request.path);
    return firstValueFrom(this.http.request<T>(request.method ?? 'GET', url, { body: request.body, responseType: 'json' }));
  }

  private toApiError(error: unknown): ApiError {
    if (!(error instanceof HttpErrorResponse)) return new ApiError({ kind: 'failed', detail: errorText(error) }, -1);
    const problem = problemForStatus(error.status, errorBodyDetail(error.error));
    if (problem.kind === 'session-ended') this.problemState.set(problem);
    return new ApiError(problem, error.status);
  }

  private async readTokens(): Promise<void> {
    const result: AuthResult | null = await firstValueFrom(this.oidc.getAuthenticationResult(), { defaultValue: null });
    // Renewed (here or by another tab), or nothing stored any more (a logout elsewhere): no longer held.
    if (this.oidc.authenticated().isAuthenticated || !result) this.endHold();
    if (!result?.access_token || !result.id_token) {
      this.tokens.set(null);
      return;
    }
    const accessClaims = decodeJwtPayload(result.access_token);
    this.tokens.set({
      idClaims: decodeJwtPayload(result.id_token),
      accessClaims,
      scope: result.scope,
      expiresAt: claimTime(accessClaims, 'exp') ?? storedAccessTokenExpiry(this.storage.readShared(OIDC_CONFIG_ID)),
    });
  }

  /**
   * After a refresh that met an outage of the IdP (no answer, a 5xx, 429…): the library signed
   * this tab out, but refreshOutageInterceptor held the stored session, which is released here and
   * taken up again. The tab stays signed in while its access token lives (the library renews again
   * at its next check); past that it starts signed out saying the IdP cannot be reached, the
   * refresh token kept for the next start. Null when no refresh met an outage. Decision 0067.
   */
  private async keepSessionThroughOutage(): Promise<LoginResponse | null> {
    if (!this.storage.releaseShared()) return null;
    // After the library's clean-up of the failed refresh (it stops its periodic check in a later task).
    await new Promise((resolve) => setTimeout(resolve));
    const result = await firstValueFrom(this.oidc.checkAuth());
    if (!result.isAuthenticated) {
      // Still the user's session: kept on screen, the API not called with the dead token (decision 0076).
      const held = hasStoredTokens(this.storage.readShared(OIDC_CONFIG_ID));
      this.heldThroughOutage.set(held);
      this.problemState.set({ kind: held ? 'renewal-unavailable' : 'idp-unreachable' });
    }
    clearTimeout(this.outageRetry.timer);
    const wait = Math.min(IDP_OUTAGE_RETRY_MS.first * 2 ** this.outageRetry.failures, IDP_OUTAGE_RETRY_MS.longest);
    this.outageRetry = { timer: setTimeout(() => void this.retryAfterOutage(), wait), failures: this.outageRetry.failures + 1 };
    return result;
  }

  private async ownRefresh<T>(refresh: () => Promise<T>): Promise<T> {
    this.ownRefreshes++;
    try {
      return await refresh();
    } finally {
      this.ownRefreshes--;
    }
  }

  /**
   * Tries again after an outage (keepSessionThroughOutage): the session as on a start, renewed when
   * its access token is due. Another outage tries again later; a refused refresh ends the session.
   */
  private async retryAfterOutage(): Promise<void> {
    if (!hasStoredTokens(this.storage.readShared(OIDC_CONFIG_ID))) return;
    let result: LoginResponse | null = null;
    try {
      result = await this.ownRefresh(() => firstValueFrom(this.oidc.checkAuthIncludingServer()));
    } catch (error) {
      console.warn('[auth] renewing the session after an outage of the identity provider failed:', errorText(error));
    }
    if (await this.keepSessionThroughOutage()) return;
    this.lastRenewal.set({ at: Date.now(), ok: !!result?.isAuthenticated });
    if (result?.isAuthenticated) {
      this.outageRetry.failures = 0;
      if (this.problemState()?.kind === 'idp-unreachable') this.problemState.set(null);
    }
    // Renewed, or refused (the session has ended): held no longer either way.
    this.endHold();
    await this.readTokens();
    this.noticeEndedSession();
  }

  /** The session is no longer held through an outage; its banner goes with it. */
  private endHold(): void {
    if (!this.heldThroughOutage()) return;
    this.heldThroughOutage.set(false);
    if (this.problemState()?.kind === 'renewal-unavailable') this.problemState.set(null);
  }

  /** The library drops the tokens when a renewal is refused (revoked grant, expired refresh token). */
  private noticeEndedSession(): void {
    if (this.ready() && this.tokens() === null && this.lastRenewal()?.ok === false) {
      this.problemState.set({ kind: 'session-ended' });
      this.leaveNothingOfEndedSession();
    }
  }

  /**
   * A session that ended here without a logout (a renewal refused or failed, at start-up or later)
   * leaves nothing stored, as a logout does: the library drops the tokens but keeps the refresh's
   * flow entries (its nonce marker and `state`) and the discovery document. Unless a session is
   * stored again meanwhile (another tab signed in).
   */
  private leaveNothingOfEndedSession(): void {
    if (this.tokens() === null && !hasStoredTokens(this.storage.readShared(OIDC_CONFIG_ID))) this.storage.clear();
  }

  private async followOtherTab(): Promise<void> {
    const sharedTokens = hasStoredTokens(this.storage.readShared(OIDC_CONFIG_ID));
    if (!sharedTokens && this.oidc.authenticated().isAuthenticated) {
      logoffLocalLeavingNothing(this.oidc, this.storage, OIDC_CONFIG_ID);
    } else if (sharedTokens && !this.oidc.authenticated().isAuthenticated) {
      await firstValueFrom(this.oidc.checkAuth());
      this.problemState.set(null);
    }
    await this.readTokens();
  }

  /** Runs `work` holding the library's refresh lock; gives up waiting for it when `signal` aborts. */
  private async withRefreshLock(work: () => Promise<void>, signal: AbortSignal): Promise<void> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks) return work();
    await locks.request(refreshLockName(OIDC_CONFIG_ID), { signal }, work);
  }

  /**
   * Tells "the IdP did not answer" from other failures, so the user gets the right message. A
   * session that had a refresh token and could not be restored has ended (revoked or expired);
   * otherwise a return from the IdP was refused. The library's message goes to the console only:
   * it quotes the callback's `state` and `error`, which whoever sent the browser here chose.
   */
  private async diagnose(message: string, hadSession: boolean): Promise<Problem> {
    console.warn('[auth] the session could not be restored:', message);
    try {
      const response = await fetch(new URL('.well-known/openid-configuration', this.config.authority.replace(/\/?$/, '/')), { cache: 'no-store' });
      if (response.ok) return hadSession ? { kind: 'session-ended' } : { kind: 'sign-in-failed' };
    } catch {
      // fall through: unreachable
    }
    return { kind: 'idp-unreachable' };
  }
}

/** `work`'s outcome, or the signal's reason once it aborts (the work itself is left to finish or not). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unknown error';
}
