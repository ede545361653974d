import { TestBed } from '@angular/core/testing';
import { FakeBffFetch, type FakeCall } from '../../../testing/fake-bff-fetch';
import { BrowserNavigation } from '../../core/browser-navigation';
import { AuthSession } from '../auth-session';
import { ApiError } from '../problem';
import { provideBffAuthSession } from './bff-auth-session';
import { BFF_FETCH } from './bff-http';
import { BFF_SESSION_CHANNEL, type BffSessionChannel } from './bff-session-channel';

const now = Date.now();
/** A /bff/user answer as the contract describes it. */
const alice = {
  sub: 'auth0|alice',
  name: 'Alice Example',
  email: 'alice@example.com',
  claims: { sub: 'auth0|alice', name: 'Alice Example', auth_time: 1764600000 },
  scopes: ['openid', 'profile', 'offline_access', 'auth0-user-api-spa'],
  loggedInAt: now - 60_000,
  sessionExpiresAt: now + 86_400_000,
  accessTokenIssuedAt: now - 10_000,
  accessTokenExpiresAt: now + 290_000,
  renewsAt: now + 260_000,
  lastRenewal: { at: now - 10_000, ok: true },
};

const unauthorized = 401;
const bob = { ...alice, sub: 'auth0|bob', name: 'Bob Example', email: 'bob@example.com', claims: { sub: 'auth0|bob', name: 'Bob Example' } };

/** The tabs' channel as one tab sees it: what it announced, and what another tab says (hear). */
class FakeSessionChannel implements BffSessionChannel {
  readonly announced: Array<string | null> = [];
  private heard: ((sub: string | null) => void) | null = null;
  announce(sub: string | null): void {
    this.announced.push(sub);
  }
  listen(heard: (sub: string | null) => void): () => void {
    this.heard = heard;
    return () => (this.heard = null);
  }
  hear(sub: string | null): void {
    this.heard?.(sub);
  }
}

describe('BffAuthSession', () => {
  let session: AuthSession;
  let backend: FakeBffFetch;
  let navigatedTo: string[];
  let channel: FakeSessionChannel;

  beforeEach(() => {
    navigatedTo = [];
    backend = new FakeBffFetch();
    channel = new FakeSessionChannel();
    TestBed.configureTestingModule({
      providers: [
        ...provideBffAuthSession(),
        { provide: BFF_FETCH, useValue: backend.fetch },
        { provide: BFF_SESSION_CHANNEL, useValue: channel },
        { provide: BrowserNavigation, useValue: { assign: (url: string) => navigatedTo.push(url) } },
      ],
    });
    session = TestBed.inject(AuthSession);
  });

  afterEach(async () => {
    await backend.expectNothingPending();
    vi.useRealTimers();
  });

  /** Answers the one request matching method and URL, and checks it carried the CSRF header. */
  async function answer(method: string, url: string, body: object | null, status = 200): Promise<FakeCall> {
    const call = await backend.expectOne(method, url);
    expect(call.headers.get('X-CSRF'), `${method} ${url} carries X-CSRF`).toBe('1');
    expect(call.credentials, `${method} ${url} sends this origin's cookie`).toBe('same-origin');
    call.respond(body, status);
    return call;
  }

  async function signedIn(user: object = alice): Promise<void> {
    const started = session.initialize();
    await answer('GET', '/bff/user', user);
    await started;
  }

  it('restores the session from /bff/user and maps the timeline the BFF reports', async () => {
    expect(session.status()).toBe('initializing');
    await signedIn();
    expect(session.status()).toBe('authenticated');
    expect(session.user()).toEqual({ sub: 'auth0|alice', name: 'Alice Example', email: 'alice@example.com', claims: alice.claims });
    expect(session.details()).toEqual({
      scopes: alice.scopes,
      loggedInAt: alice.loggedInAt,
      accessTokenIssuedAt: alice.accessTokenIssuedAt,
      accessTokenExpiresAt: alice.accessTokenExpiresAt,
      renewsAt: alice.renewsAt,
      lastRenewal: alice.lastRenewal,
    });
    expect(session.problem()).toBeNull();
  });

  it('a 401 from /bff/user is simply signed out, with no problem shown', async () => {
    const started = session.initialize();
    await answer('GET', '/bff/user', { title: 'Not signed in' }, unauthorized);
    await started;
    expect(session.status()).toBe('anonymous');
    expect(session.user()).toBeNull();
    expect(session.details()).toBeNull();
    expect(session.problem()).toBeNull();
  });

  it('a BFF that does not answer, or answers nonsense, is a problem, not a signed-in user', async () => {
    let started = session.initialize();
    (await backend.expectOne('GET', '/bff/user')).fail();
    await started;
    expect(session.problem()).toEqual({ kind: 'api-unreachable' });
    expect(session.isAuthenticated()).toBe(false);

    started = session.initialize();
    await answer('GET', '/bff/user', { sub: 'auth0|alice' });
    await started;
    expect(session.isAuthenticated()).toBe(false);
    expect(session.problem()?.kind).toBe('failed');
  });

  it('login is a full-page navigation to the BFF, coming back to this page', async () => {
    await session.login();
    expect(navigatedTo).toEqual([`/bff/login?returnTo=${encodeURIComponent(location.pathname + location.search)}`]);
  });

  it('calls the API on its own origin with X-CSRF and no token of its own', async () => {
    await signedIn();
    const result = session.callApi<{ text: string }>({ method: 'POST', path: '/api/notes', body: { text: 'hello' } });
    const request = await answer('POST', '/api/notes', { id: '1', text: 'hello' });
    expect(await result).toEqual({ id: '1', text: 'hello' });
    expect(request.body).toEqual({ text: 'hello' });
    expect(request.headers.get('Content-Type')).toBe('application/json');
    expect(request.headers.has('Authorization')).toBe(false);
  });

  it('a 401 from the API means the session is gone: signed out, "session ended" shown', async () => {
    await signedIn();
    const result = session.callApi({ path: '/api/UserOne' });
    await answer('GET', '/api/UserOne', { title: 'Unauthorized' }, unauthorized);
    await expect(result).rejects.toMatchObject({ status: 401, problem: { kind: 'session-ended' } });
    expect(session.status()).toBe('anonymous');
    expect(session.user()).toBeNull();
    expect(session.problem()).toEqual({ kind: 'session-ended' });
  });

  it('a 403 from the API is "forbidden", and the session stays', async () => {
    await signedIn();
    const result = session.callApi({ path: '/api/UserOne' });
    await answer('GET', '/api/UserOne', { detail: 'insufficient_scope' }, 403);
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).problem).toEqual({ kind: 'forbidden' });
    expect(session.status()).toBe('authenticated');
  });

  it('"Renew now" posts /bff/renew and shows the new timeline; a 401 there ends the session', async () => {
    await signedIn();
    let renewed = session.renew();
    const later = { ...alice, accessTokenIssuedAt: now, accessTokenExpiresAt: now + 300_000, renewsAt: now + 270_000, lastRenewal: { at: now, ok: true } };
    await answer('POST', '/bff/renew', later);
    await renewed;
    expect(session.details()?.accessTokenExpiresAt).toBe(later.accessTokenExpiresAt);
    expect(session.details()?.lastRenewal).toEqual({ at: now, ok: true });

    renewed = session.renew();
    await answer('POST', '/bff/renew', { title: 'Session ended' }, unauthorized);
    await renewed;
    expect(session.status()).toBe('anonymous');
    expect(session.problem()).toEqual({ kind: 'session-ended' });
  });

  it('renews by itself at the time the BFF names', async () => {
    vi.useFakeTimers({ now });
    await signedIn({ ...alice, renewsAt: now + 5_000 });
    await backend.expectNothingPending();
    await vi.advanceTimersByTimeAsync(5_000);
    await answer('POST', '/bff/renew', { ...alice, renewsAt: null });
    await vi.advanceTimersByTimeAsync(600_000);
    await backend.expectNothingPending();
  });

  it('a renewal that fails but leaves the session (503, no answer) is tried again, waiting longer each time, until one succeeds', async () => {
    vi.useFakeTimers({ now });
    await signedIn({ ...alice, renewsAt: now + 5_000 });
    await vi.advanceTimersByTimeAsync(5_000);
    await answer('POST', '/bff/renew', { title: 'Service Unavailable' }, 503);
    await vi.advanceTimersByTimeAsync(0);
    expect(session.isAuthenticated()).toBe(true);
    expect(session.problem()).not.toBeNull();
    for (const wait of [5_000, 10_000, 20_000, 40_000, 60_000, 60_000]) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      await backend.expectNothingPending();
      await vi.advanceTimersByTimeAsync(1);
      await answer('POST', '/bff/renew', { title: 'Service Unavailable' }, 503);
      await vi.advanceTimersByTimeAsync(0);
      expect(session.isAuthenticated()).toBe(true);
    }
    await vi.advanceTimersByTimeAsync(60_000);
    await answer('POST', '/bff/renew', { ...alice, renewsAt: now + 600_000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(session.problem()).toBeNull();
    // Back on the BFF's timeline: nothing before the time it names, and a later failure starts again at the first wait.
    await vi.advanceTimersByTimeAsync(now + 600_000 - Date.now() - 1);
    await backend.expectNothingPending();
    await vi.advanceTimersByTimeAsync(1);
    await answer('POST', '/bff/renew', { title: 'Service Unavailable' }, 503);
    await vi.advanceTimersByTimeAsync(5_000 - 1);
    await backend.expectNothingPending();
    await vi.advanceTimersByTimeAsync(1);
    await answer('POST', '/bff/renew', { ...alice, renewsAt: null });
  });

  it('waits for a renewal time beyond what one timer can hold (a 30-day access token) instead of renewing at once', async () => {
    vi.useFakeTimers({ now });
    const day = 86_400_000;
    await signedIn({ ...alice, accessTokenExpiresAt: now + 30 * day, renewsAt: now + 30 * day - 30_000 });
    await vi.advanceTimersByTimeAsync(60_000);
    await backend.expectNothingPending();
    await vi.advanceTimersByTimeAsync(30 * day - 30_000 - 60_000 - 1);
    await backend.expectNothingPending();
    await vi.advanceTimersByTimeAsync(1);
    await answer('POST', '/bff/renew', { ...alice, renewsAt: null });
  });

  it('logout posts /bff/logout with X-CSRF, then goes where the BFF says (the IdP\'s end-session URL)', async () => {
    await signedIn();
    const done = session.logout();
    await answer('POST', '/bff/logout', { redirectTo: 'http://localhost:4400/session/end?id_token_hint=x' });
    await done;
    expect(navigatedTo).toEqual(['http://localhost:4400/session/end?id_token_hint=x']);
    expect(session.status()).toBe('anonymous');
  });

  it('follows the other tabs of the browser (they share the session cookie): another user, a sign-out, a sign-in', async () => {
    await signedIn();
    expect(channel.announced, 'tells the other tabs whom it found').toEqual(['auth0|alice']);
    channel.hear('auth0|alice');
    await backend.expectNothingPending();

    // Bob signed in in another tab: the cookie now names his session.
    channel.hear('auth0|bob');
    await answer('GET', '/bff/user', bob);
    await vi.waitFor(() => expect(session.user()?.sub).toBe('auth0|bob'));
    // Alice signed out in another tab.
    channel.hear(null);
    await answer('GET', '/bff/user', { title: 'Not signed in' }, unauthorized);
    await vi.waitFor(() => expect(session.status()).toBe('anonymous'));
    expect(session.problem(), 'a sign-out elsewhere is no problem here').toBeNull();
    // Someone signed in again in another tab.
    channel.hear('auth0|alice');
    await answer('GET', '/bff/user', alice);
    await vi.waitFor(() => expect(session.user()?.sub).toBe('auth0|alice'));
    expect(channel.announced, 'what it heard is not told again').toEqual(['auth0|alice']);
  });

  it('tells the other tabs when the session ends here: logout, a 401 from the API or a renewal', async () => {
    await signedIn();
    let done = session.logout();
    await answer('POST', '/bff/logout', { redirectTo: 'http://localhost:4400/session/end' });
    await done;
    expect(channel.announced).toEqual(['auth0|alice', null]);

    for (const end of [
      async () => {
        const call = session.callApi({ path: '/api/notes' }).catch(() => undefined);
        await answer('GET', '/api/notes', null, unauthorized);
        await call;
      },
      async () => {
        const renewal = session.renew();
        await answer('POST', '/bff/renew', null, unauthorized);
        await renewal;
      },
    ]) {
      channel.hear('auth0|alice');
      await answer('GET', '/bff/user', alice);
      await vi.waitFor(() => expect(session.status()).toBe('authenticated'));
      channel.announced.length = 0;
      await end();
      expect(session.status()).toBe('anonymous');
      expect(channel.announced).toEqual([null]);
    }
  });

  it('logout refuses a redirect that is not http(s), and stays put when the BFF fails', async () => {
    await signedIn();
    let done = session.logout();
    await answer('POST', '/bff/logout', { redirectTo: 'javascript:alert(1)' });
    await done;
    expect(navigatedTo).toEqual([]);
    expect(session.problem()?.kind).toBe('failed');

    done = session.logout();
    await answer('POST', '/bff/logout', null, 502);
    await done;
    expect(navigatedTo).toEqual([]);
    expect(session.status()).toBe('authenticated');
  });
});
