import { computed, DestroyRef, DOCUMENT, inject, Injectable, signal, type EnvironmentProviders, type Provider } from '@angular/core';
import { BrowserNavigation } from '../../core/browser-navigation';
import { AuthSession, type ApiRequest, type AuthStatus } from '../auth-session';
import { RENDER_WHILE_RESTORING } from '../render-while-restoring';
import { ApiError, errorBodyDetail, problemForStatus, type Problem } from '../problem';
import { BffCallError, BffHttp } from './bff-http';
import { BFF_PATHS } from './bff-paths';
import { BFF_SESSION_CHANNEL } from './bff-session-channel';
import { parseBffUser, toAuthUser, toSessionDetails, type BffUser } from './bff-user';
import { dropEarlyPageData, EARLY_BFF_REQUESTS, type EarlyBffRequests } from './early-bff-requests';

/**
 * AuthSession behind a Backend-for-Frontend: the BFF holds the tokens and a session cookie names
 * the session, so no token ever reaches the browser and angular-auth-oidc-client is never loaded.
 * Every call carries `X-CSRF: 1` (BffHttp); a 401 from the BFF means signed out. The cookie is
 * shared by the browser's tabs: each tab tells the others whom it found signed in, and follows
 * what they tell it (BFF_SESSION_CHANNEL).
 */
@Injectable()
export class BffAuthSession extends AuthSession {
  private readonly http = inject(BffHttp);
  private readonly navigation = inject(BrowserNavigation);
  private readonly document = inject(DOCUMENT);
  private readonly early = inject(EARLY_BFF_REQUESTS, { optional: true });
  private readonly channel = inject(BFF_SESSION_CHANNEL);

  private readonly ready = signal(false);
  private readonly session = signal<BffUser | null>(null);
  private readonly problemState = signal<Problem | null>(null);
  private renewalTimer: ReturnType<typeof setTimeout> | undefined;
  /** The wait before the last retry of a failed renewal (0: the last renewal succeeded). */
  private renewalRetryMs = 0;

  override readonly problem = this.problemState.asReadonly();
  override readonly isAuthenticated = computed(() => this.ready() && this.session() !== null);
  override readonly status = computed<AuthStatus>(() => (!this.ready() ? 'initializing' : this.isAuthenticated() ? 'authenticated' : 'anonymous'));
  override readonly user = computed(() => {
    const session = this.session();
    return session && this.ready() ? toAuthUser(session) : null;
  });
  override readonly details = computed(() => {
    const session = this.session();
    return session && this.ready() ? toSessionDetails(session) : null;
  });

  /** The `sub` this tab last told the other tabs (undefined: nothing yet). */
  private announced: string | null | undefined;

  constructor() {
    super();
    const destroyRef = inject(DestroyRef);
    destroyRef.onDestroy(() => clearTimeout(this.renewalTimer));
    const stopListening = this.channel?.listen((sub) => void this.follow(sub));
    if (stopListening) destroyRef.onDestroy(stopListening);
  }

  /** Takes the `/bff/user` answer requested at start-up, if any (BffHttp). */
  override async initialize(): Promise<void> {
    try {
      this.adopt(await this.fetchSession('GET', BFF_PATHS.user));
    } catch (error) {
      dropEarlyPageData(this.early);
      this.fail(error, null);
    }
    this.ready.set(true);
    this.announce();
  }

  /** A full-page navigation: the BFF sends the browser to the IdP and back to this page. */
  override async login(): Promise<void> {
    this.problemState.set(null);
    const here = this.document.location.pathname + this.document.location.search;
    this.navigation.assign(`${BFF_PATHS.login}?returnTo=${encodeURIComponent(here)}`);
  }

  /** The BFF revokes the refresh token, ends the session and answers where to go (the IdP's end-session URL). */
  override async logout(): Promise<void> {
    let redirectTo: string;
    try {
      const answer = await this.http.request<{ redirectTo?: unknown } | null>('POST', BFF_PATHS.logout);
      redirectTo = checkedRedirect(answer?.redirectTo, this.document.location.origin);
    } catch (error) {
      // Already signed out (401) is the state a logout wants; anything else is shown.
      if (!(error instanceof BffCallError && error.status === 401)) {
        this.problemState.set(toProblem(error));
        return;
      }
      redirectTo = '/';
    }
    this.endLocally(null);
    this.announce();
    this.navigation.assign(redirectTo);
  }

  override async renew(): Promise<void> {
    try {
      this.adopt(await this.fetchSession('POST', BFF_PATHS.renew));
      this.renewalRetryMs = 0;
    } catch (error) {
      this.fail(error, { kind: 'session-ended' });
      // Not a 401: the BFF or the IdP behind it could not renew now, and the session stands; without
      // another try the timeline would stop (the BFF still renews on the next API call).
      if (this.session() !== null) this.retryRenewal();
    }
    this.announce();
  }

  /** Renews again after a failed renewal: first after RENEWAL_RETRY_MS.first, doubling up to .longest. */
  private retryRenewal(): void {
    this.renewalRetryMs = this.renewalRetryMs === 0 ? RENEWAL_RETRY_MS.first : Math.min(2 * this.renewalRetryMs, RENEWAL_RETRY_MS.longest);
    clearTimeout(this.renewalTimer);
    this.renewalTimer = setTimeout(() => void this.renew(), this.renewalRetryMs);
  }

  override async callApi<T>(request: ApiRequest): Promise<T> {
    try {
      return await this.http.request<T>(request.method ?? 'GET', request.path, request.body);
    } catch (error) {
      if (error instanceof BffCallError && error.status === 401) {
        this.endLocally({ kind: 'session-ended' });
        this.announce();
      }
      throw error instanceof BffCallError ? new ApiError(problemForStatus(error.status, errorBodyDetail(error.body)), error.status) : new ApiError(toProblem(error), -1);
    }
  }

  override dismissProblem(): void {
    this.problemState.set(null);
  }

  /**
   * Another tab found the session to be `sub`'s. When that is not whom this tab shows, the BFF is
   * asked again and its answer followed: another user's session is adopted (the shell makes the
   * page again for them), none is signed out without a message (the other tab's sign-out).
   */
  private async follow(sub: string | null): Promise<void> {
    if (!this.ready() || sub === (this.session()?.sub ?? null)) return;
    try {
      this.adopt(await this.fetchSession('GET', BFF_PATHS.user));
    } catch (error) {
      this.fail(error, null);
    }
    // What this tab now shows is what it heard, or newer: nothing to tell the others.
    this.announced = this.session()?.sub ?? null;
  }

  /** Tells the other tabs whom this tab now finds signed in, when that changed. */
  private announce(): void {
    const sub = this.session()?.sub ?? null;
    if (sub === this.announced) return;
    this.announced = sub;
    this.channel?.announce(sub);
  }

  private async fetchSession(method: 'GET' | 'POST', path: string): Promise<BffUser> {
    return parseBffUser(await this.http.request<unknown>(method, path));
  }

  private adopt(user: BffUser): void {
    this.session.set(user);
    this.problemState.set(null);
    this.scheduleRenewal(user.renewsAt);
  }

  /** A 401 is "signed out" (with `ended` as the problem shown, if any); other failures keep the session. */
  private fail(error: unknown, ended: Problem | null): void {
    if (error instanceof BffCallError && error.status === 401) this.endLocally(ended);
    else this.problemState.set(toProblem(error));
  }

  private endLocally(problem: Problem | null): void {
    clearTimeout(this.renewalTimer);
    this.session.set(null);
    this.problemState.set(problem);
  }

  /**
   * Renews at the time the BFF names, like token mode, so the timeline moves while the page is open.
   * A wait longer than a timer can hold (an access token living 25 days or more) is taken in steps:
   * browsers fire such a timer at once, which would renew again after every renewal.
   */
  private scheduleRenewal(renewsAt: number | null): void {
    clearTimeout(this.renewalTimer);
    if (renewsAt === null) return;
    const wait = renewsAt - Date.now();
    this.renewalTimer = wait > MAX_TIMER_DELAY_MS
      ? setTimeout(() => this.scheduleRenewal(renewsAt), MAX_TIMER_DELAY_MS)
      : setTimeout(() => void this.renew(), Math.max(0, wait));
  }
}

/**
 * After a renewal failed but the session stands (a 503 while the BFF or its IdP restarts, no
 * answer), the next try comes after `first` ms, doubling up to `longest`, as token mode's retry
 * after an IdP outage (decision 0067).
 */
export const RENEWAL_RETRY_MS = { first: 5_000, longest: 60_000 } as const;

/** The longest delay a timer holds (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The BFF's answer for where logout goes: an http(s) URL (the IdP's end-session URL or our own page). */
function checkedRedirect(value: unknown, base: string): string {
  const url = typeof value === 'string' && URL.canParse(value, base) ? new URL(value, base) : null;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new Error('the logout answer has no usable redirectTo');
  return url.href;
}

function toProblem(error: unknown): Problem {
  if (error instanceof BffCallError) return error.status === 0 ? { kind: 'api-unreachable' } : { kind: 'failed', detail: `The server answered ${error.status}.` };
  return { kind: 'failed', detail: error instanceof Error ? error.message : 'unknown error' };
}

/**
 * The providers of BFF mode: AuthSession and its calls to the BFF (BffHttp, which sends
 * `X-CSRF: 1`); `early`: the requests sent at start-up (startEarlyBffRequests), handed to the
 * app's own once each. No HttpClient: nothing in BFF mode uses it.
 */
export function provideBffAuthSession(early: EarlyBffRequests | null = null): (Provider | EnvironmentProviders)[] {
  return [
    { provide: EARLY_BFF_REQUESTS, useValue: early },
    // Nothing in the URL to clean up first: the app renders while /bff/user is answered.
    { provide: RENDER_WHILE_RESTORING, useValue: true },
    BffHttp,
    BffAuthSession,
    { provide: AuthSession, useExisting: BffAuthSession },
  ];
}
