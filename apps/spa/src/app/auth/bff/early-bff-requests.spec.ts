import { TestBed } from '@angular/core/testing';
import { FakeBffFetch } from '../../../testing/fake-bff-fetch';
import { BrowserNavigation } from '../../core/browser-navigation';
import { FirstPageData } from '../../core/first-page-data';
import { AuthSession } from '../auth-session';
import { provideBffAuthSession } from './bff-auth-session';
import { BFF_FETCH } from './bff-http';
import { startEarlyBffRequests, type EarlyBffRequests } from './early-bff-requests';

const USER_ONE = '/api/UserOne';
const now = Date.now();
const alice = {
  sub: 'auth0|alice', name: 'Alice Example', claims: { sub: 'auth0|alice', name: 'Alice Example' }, scopes: ['openid'],
  loggedInAt: now, sessionExpiresAt: now + 86_400_000, accessTokenIssuedAt: now, accessTokenExpiresAt: now + 300_000, renewsAt: null, lastRenewal: null,
};
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('the BFF requests sent at start-up', () => {
  let sent: { url: string; init: RequestInit | undefined }[];
  let answers: Map<string, Promise<Response>>;
  const send = ((url: string, init?: RequestInit) => {
    sent.push({ url, init });
    return answers.get(url) ?? Promise.reject(new TypeError('Failed to fetch'));
  }) as typeof fetch;

  beforeEach(() => {
    sent = [];
    answers = new Map();
  });

  it('sends GET /bff/user and the page\'s API call side by side, both with X-CSRF on this origin\'s cookie only', () => {
    startEarlyBffRequests(USER_ONE, send);
    expect(sent.map((s) => s.url)).toEqual(['/bff/user', USER_ONE]);
    for (const { init } of sent) {
      expect(new Headers(init?.headers).get('X-CSRF')).toBe('1');
      expect(init?.credentials).toBe('same-origin');
      expect(init?.method ?? 'GET').toBe('GET');
    }
  });

  it('sends only GET /bff/user for a page without an API call', () => {
    expect(startEarlyBffRequests(undefined, send).pageData).toBeNull();
    expect(sent.map((s) => s.url)).toEqual(['/bff/user']);
  });

  describe('taken by the app', () => {
    let session: AuthSession;
    let firstPageData: FirstPageData;
    let backend: FakeBffFetch;
    let early: EarlyBffRequests;

    function setUp(user: Promise<Response>, page: Promise<Response>): void {
      answers.set('/bff/user', user);
      answers.set(USER_ONE, page);
      early = startEarlyBffRequests(USER_ONE, send);
      backend = new FakeBffFetch();
      TestBed.configureTestingModule({
        providers: [...provideBffAuthSession(early), { provide: BFF_FETCH, useValue: backend.fetch }, { provide: BrowserNavigation, useValue: { assign: () => {} } }],
      });
      session = TestBed.inject(AuthSession);
      firstPageData = TestBed.inject(FirstPageData);
    }

    afterEach(() => backend.expectNothingPending());

    /** Answers the one GET the app sent itself (not an early one), checking its X-CSRF. */
    async function answerFromBff(url: string, body: object, status = 200): Promise<void> {
      const call = await backend.expectOne('GET', url);
      expect(call.headers.get('X-CSRF')).toBe('1');
      call.respond(body, status);
    }

    it('the session and the page\'s data come from the early requests, once each: no second request', async () => {
      setUp(Promise.resolve(json(alice)), Promise.resolve(json({ data: ['user one data'] })));
      await session.initialize();
      expect(session.status()).toBe('authenticated');
      firstPageData.start(USER_ONE);
      expect(await firstPageData.take(USER_ONE)).toEqual({ data: ['user one data'] });
      await backend.expectNothingPending();
      expect(sent.map((s) => s.url)).toEqual(['/bff/user', USER_ONE]);

      // Any later load asks the BFF itself.
      const again = session.callApi({ path: USER_ONE });
      await answerFromBff(USER_ONE, { data: ['fresh'] });
      expect(await again).toEqual({ data: ['fresh'] });
    });

    it('signed out (a 401 from /bff/user): the early API answer is dropped, never handed to a later request', async () => {
      setUp(Promise.resolve(json({ title: 'Unauthorized' }, 401)), Promise.resolve(json({ title: 'Unauthorized' }, 401)));
      await session.initialize();
      expect(session.status()).toBe('anonymous');
      expect(session.problem()).toBeNull();
      expect(early.pageData).toBeNull();
      firstPageData.start(USER_ONE);
      expect(firstPageData.take(USER_ONE)).toBeUndefined();
      const later = session.callApi({ path: USER_ONE });
      await answerFromBff(USER_ONE, { data: ['from the BFF'] });
      expect(await later).toEqual({ data: ['from the BFF'] });
    });

    it('a 401 for the early API call ends the session like the app\'s own call would', async () => {
      setUp(Promise.resolve(json(alice)), Promise.resolve(json({ title: 'Unauthorized' }, 401)));
      await session.initialize();
      firstPageData.start(USER_ONE);
      await expect(firstPageData.take(USER_ONE)).rejects.toMatchObject({ status: 401, problem: { kind: 'session-ended' } });
      expect(session.status()).toBe('anonymous');
      expect(session.problem()).toEqual({ kind: 'session-ended' });
      await backend.expectNothingPending();
    });

    it('a 403 for it is "forbidden", passed on as such, not asked again', async () => {
      setUp(Promise.resolve(json(alice)), Promise.resolve(json({ detail: 'insufficient_scope' }, 403)));
      await session.initialize();
      firstPageData.start(USER_ONE);
      await expect(firstPageData.take(USER_ONE)).rejects.toMatchObject({ status: 403, problem: { kind: 'forbidden' } });
      expect(session.status()).toBe('authenticated');
      await backend.expectNothingPending();
    });

    it('an early GET that failed on the network is sent again by the app, with X-CSRF', async () => {
      setUp(Promise.reject(new TypeError('Failed to fetch')), Promise.resolve(json({ data: ['user one data'] })));
      const started = session.initialize();
      await answerFromBff('/bff/user', alice);
      await started;
      expect(session.status()).toBe('authenticated');
    });

    it('a session the BFF answered with something that is not a session drops the early API answer too', async () => {
      setUp(Promise.resolve(json({ sub: 'auth0|alice' })), Promise.resolve(json({ data: ['user one data'] })));
      await session.initialize();
      expect(session.isAuthenticated()).toBe(false);
      expect(early.pageData).toBeNull();
    });
  });
});
