import { HttpClient, HttpErrorResponse, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom, of } from 'rxjs';
import { testRuntimeConfig } from '../../../testing/runtime-config';
import { TOKEN_MODE_CONFIG } from '../../core/runtime-config';
import { earlyRequest, type EarlyAnswer, type EarlyRequest } from '../early-request';
import { accessTokenInterceptor } from './access-token-interceptor';
import { ACCESS_TOKEN_SOURCE } from './access-token-source';
import { EARLY_API_CALL, earlyApiCallInterceptor, startApiCallOnTokens, type EarlyApiCall, type EarlyApiCallSlot } from './early-api-call';

const config = testRuntimeConfig;
const BASE = 'http://localhost:4200/';
const USER_ONE = 'http://localhost:5001/api/UserOne';
const TOKEN_ENDPOINT = 'http://localhost:4400/oauth/token';

/** An early token request whose answer the test gives when it likes. */
function pendingExchange(): { exchange: EarlyRequest; answer: (status: number, body: unknown) => void; fail: () => void } {
  let resolve!: (response: Response) => void;
  let reject!: (error: unknown) => void;
  const response = new Promise<Response>((res, rej) => ((resolve = res), (reject = rej)));
  return {
    exchange: earlyRequest('POST', TOKEN_ENDPOINT, new URLSearchParams({ code: 'c' }), response),
    answer: (status, body) => resolve(new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })),
    fail: () => reject(new TypeError('Failed to fetch')),
  };
}

/** Lets the answer's promise chain (body read, then the slot's callback) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('startApiCallOnTokens: the start-up page\'s API call, sent with the early token response\'s access token', () => {
  let sent: { url: string; headers: Headers }[];
  const send = (async (url: string, init?: RequestInit) => {
    sent.push({ url, headers: new Headers(init?.headers) });
    return new Response(JSON.stringify(['user one data']), { status: 200 });
  }) as typeof fetch;

  beforeEach(() => (sent = []));

  it('leaves only once the token response is a 2xx with an access token: a GET of the page\'s API path, with that token as its bearer', async () => {
    const { exchange, answer } = pendingExchange();
    const slot = startApiCallOnTokens(config, '/api/UserOne', exchange, BASE, send)!;
    await settle();
    expect(sent).toEqual([]);
    expect(slot.call).toBeNull();
    answer(200, { access_token: 'at-1', id_token: 'it', token_type: 'Bearer' });
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]!.url).toBe(USER_ONE);
    expect(sent[0]!.headers.get('Authorization')).toBe('Bearer at-1');
    expect(slot.call).toMatchObject({ method: 'GET', url: USER_ONE, form: null, bearer: 'at-1', taken: false });
    expect((await slot.call!.answer).body).toEqual(['user one data']);
  });

  it('sends nothing for a refused code, a 2xx without a usable access token, a body that is not JSON, or no answer at all', async () => {
    const outcomes: ((p: ReturnType<typeof pendingExchange>) => void)[] = [
      (p) => p.answer(400, { error: 'invalid_grant' }),
      (p) => p.answer(302, { access_token: 'at-1' }),
      (p) => p.answer(500, { access_token: 'at-1' }),
      (p) => p.answer(200, { id_token: 'it' }),
      (p) => p.answer(200, { access_token: '' }),
      (p) => p.answer(200, { access_token: 42 }),
      (p) => p.answer(200, 'access_token=at-1'),
      (p) => p.answer(200, null),
      (p) => p.fail(),
    ];
    const slots: (EarlyApiCallSlot | null)[] = [];
    for (const outcome of outcomes) {
      const pending = pendingExchange();
      slots.push(startApiCallOnTokens(config, '/api/UserOne', pending.exchange, BASE, send));
      outcome(pending);
    }
    await settle();
    await settle();
    expect(sent).toEqual([]);
    expect(slots.map((slot) => slot?.call)).toEqual(outcomes.map(() => null));
  });

  it('sends the token only to the API\'s origin: an address that would leave it gets no call at all', async () => {
    for (const [apiUrl, path] of [['http://localhost:5001', '@evil.example/api/UserOne'], ['http://localhost:5001', '.evil.example/api'], ['not a url', '/api/UserOne']] as const) {
      const { exchange, answer } = pendingExchange();
      expect(startApiCallOnTokens({ ...config, apiUrl }, path, exchange, BASE, send), `${apiUrl} ${path}`).toBeNull();
      answer(200, { access_token: 'at-1' });
    }
    await settle();
    await settle();
    expect(sent).toEqual([]);
    // A trailing slash on the API's address is the same address the app's own request uses.
    const { exchange, answer } = pendingExchange();
    startApiCallOnTokens({ ...config, apiUrl: 'http://localhost:5001/' }, '/api/UserOne', exchange, BASE, send);
    answer(200, { access_token: 'at-1' });
    await vi.waitFor(() => expect(sent.map((s) => s.url)).toEqual([USER_ONE]));
  });
});

describe('earlyApiCallInterceptor', () => {
  let http: HttpClient;
  let backend: HttpTestingController;
  let slot: EarlyApiCallSlot;
  let libraryToken: string;

  function earlyCall(answer: Promise<EarlyAnswer>, bearer = 'at-1', url = USER_ONE): EarlyApiCall {
    answer.catch(() => {});
    return { method: 'GET', url, form: null, answer, taken: false, bearer };
  }

  beforeEach(() => {
    libraryToken = 'at-1';
    slot = { call: earlyCall(Promise.resolve({ status: 200, statusText: 'OK', body: ['early data'] })) };
    TestBed.configureTestingModule({
      providers: [
        // The app's order: the access-token interceptor adds the bearer this one compares.
        provideHttpClient(withInterceptors([accessTokenInterceptor, earlyApiCallInterceptor])),
        provideHttpClientTesting(),
        { provide: TOKEN_MODE_CONFIG, useValue: config },
        { provide: ACCESS_TOKEN_SOURCE, useValue: { accessToken: () => of(libraryToken) } },
        { provide: EARLY_API_CALL, useFactory: () => slot },
      ],
    });
    http = TestBed.inject(HttpClient);
    backend = TestBed.inject(HttpTestingController);
  });

  afterEach(() => backend.verify());

  /** A GET the API itself answers (the test flushes `{ from: 'api' }`), or the early answer. */
  async function get(url = USER_ONE): Promise<unknown> {
    const result = firstValueFrom(http.get(url));
    await settle();
    for (const request of backend.match(() => true)) request.flush({ from: 'api', authorization: request.request.headers.get('Authorization') });
    return result;
  }

  it('answers the app\'s GET with the same URL and the same bearer (the token the library accepted) with the early answer, once', async () => {
    expect(await get()).toEqual(['early data']);
    expect(slot.call).toBeNull();
    expect(await get()).toEqual({ from: 'api', authorization: 'Bearer at-1' });
  });

  it('a request with another token does not take it (the library accepted another token, or none): it goes to the API', async () => {
    for (const token of ['at-2', 'at-1x', '']) {
      libraryToken = token;
      expect(await get(), token).toEqual({ from: 'api', authorization: token ? `Bearer ${token}` : null });
    }
    expect(slot.call?.taken).toBe(false);
  });

  it('another URL or method does not take it', async () => {
    expect(await get('http://localhost:5001/api/notes')).toEqual({ from: 'api', authorization: 'Bearer at-1' });
    expect(await get(`${USER_ONE}?x=1`)).toEqual({ from: 'api', authorization: 'Bearer at-1' });
    const post = firstValueFrom(http.post(USER_ONE, {}));
    await settle();
    backend.expectOne(USER_ONE).flush({ from: 'api' });
    expect(await post).toEqual({ from: 'api' });
    expect(slot.call?.taken).toBe(false);
  });

  it('leaves requests alone while no early call has left (the token response is not in yet, or had no access token)', async () => {
    slot.call = null;
    expect(await get()).toEqual({ from: 'api', authorization: 'Bearer at-1' });
  });

  it('an early call that failed (no answer, 401, 403, 503) is sent again as the app\'s own request, and the app gets the API\'s answer to that', async () => {
    const failures: Promise<EarlyAnswer>[] = [
      Promise.reject(new TypeError('Failed to fetch')),
      Promise.resolve({ status: 401, statusText: 'Unauthorized', body: { error: 'invalid_token' } }),
      Promise.resolve({ status: 403, statusText: 'Forbidden', body: null }),
      Promise.resolve({ status: 503, statusText: 'Unavailable', body: null }),
    ];
    for (const failure of failures) {
      slot.call = earlyCall(failure);
      const result = firstValueFrom(http.get(USER_ONE));
      await vi.waitFor(() => backend.expectOne(USER_ONE).flush({ from: 'api' }));
      expect(await result).toEqual({ from: 'api' });
      expect(slot.call).toBeNull();
    }
    // The API's own refusal of the resent request is the app's error, as without the early call.
    slot.call = earlyCall(Promise.resolve({ status: 401, statusText: 'Unauthorized', body: null }));
    const refused = firstValueFrom(http.get(USER_ONE)).catch((e: unknown) => e);
    await vi.waitFor(() => backend.expectOne(USER_ONE).flush({ error: 'invalid_token' }, { status: 401, statusText: 'Unauthorized' }));
    expect(((await refused) as HttpErrorResponse).status).toBe(401);
  });
});
