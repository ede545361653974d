import { HttpClient, HttpErrorResponse, HttpParams, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';
import { testRuntimeConfig } from '../../../testing/runtime-config';
import { EARLY_IDP_REQUESTS, earlyIdpRequestInterceptor, startCodeExchange, startKeySetFetch, type EarlyIdpRequest } from './early-idp-requests';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import { SplitSecurityStorage, STORAGE_PREFIX } from './split-security-storage';

const TOKEN = 'http://localhost:4400/oauth/token';
const JWKS = 'http://localhost:4400/jwks';
const config = testRuntimeConfig;
const TOKENS = { access_token: 'at', id_token: 'it', token_type: 'Bearer' };
const KEYS = { keys: [{ kty: 'RSA', kid: 'k1', n: 'n', e: 'AQAB' }] };
type Answer = { status: number; statusText: string; body: unknown };

/** What the library stores before it sends the browser to the IdP. */
function storeLoginInFlight(state = 'state-1', codeVerifier = 'verifier-1', endpoints: unknown = { tokenEndpoint: TOKEN, jwksUri: JWKS }): void {
  localStorage.setItem(STORAGE_PREFIX + OIDC_CONFIG_ID, JSON.stringify({ authWellKnownEndPoints: endpoints }));
  sessionStorage.setItem(STORAGE_PREFIX + OIDC_CONFIG_ID, JSON.stringify({ authStateControl: state, codeVerifier }));
}

/** The library's token-request body, encoded as Angular's HttpParams encode it. */
function libraryBody(code = 'code-1', verifier = 'verifier-1'): string {
  return new HttpParams({ fromObject: { grant_type: 'authorization_code', client_id: config.clientId, code_verifier: verifier, code, redirect_uri: config.redirectUrl } }).toString();
}

describe('the requests sent at start-up on a return from the IdP', () => {
  let sent: { url: string; init?: RequestInit }[];
  const send = (async (url: string, init?: RequestInit) => {
    sent.push({ url, ...(init ? { init } : {}) });
    return new Response(JSON.stringify(url === TOKEN ? TOKENS : KEYS), { status: 200 });
  }) as typeof fetch;

  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    sent = [];
  });

  it('sends the token request the library would send, to its token endpoint, when the state is the one it stored', async () => {
    storeLoginInFlight();
    const exchange = startCodeExchange(config, '?code=code-1&state=state-1', new SplitSecurityStorage(), send);
    expect(sent.map((s) => s.url)).toEqual([TOKEN]);
    expect(Object.fromEntries(new URLSearchParams(String(sent[0]!.init!.body)))).toEqual({
      grant_type: 'authorization_code', client_id: config.clientId, code_verifier: 'verifier-1', code: 'code-1', redirect_uri: config.redirectUrl,
    });
    expect((await exchange!.answer).body).toEqual(TOKENS);
  });

  it('sends no token request for a state the library did not store (a forged or replayed callback), an error, or no login in flight', () => {
    storeLoginInFlight();
    const storage = new SplitSecurityStorage();
    for (const search of ['?code=code-1&state=forged', '?code=code-1', '?error=access_denied&state=state-1', '?code=code-1&state=state-1&error=x', '']) {
      expect(startCodeExchange(config, search, storage, send), search).toBeNull();
    }
    sessionStorage.clear();
    expect(startCodeExchange(config, '?code=code-1&state=state-1', storage, send)).toBeNull();
    expect(sent).toEqual([]);
  });

  it('fetches the stored jwks_uri, and nothing without a usable one', async () => {
    storeLoginInFlight();
    const keys = startKeySetFetch(new SplitSecurityStorage(), send);
    expect(sent.map((s) => s.url)).toEqual([JWKS]);
    expect((await keys!.answer).body).toEqual(KEYS);
    for (const endpoints of [null, { tokenEndpoint: TOKEN }, { jwksUri: 'not a url' }, 'x']) {
      storeLoginInFlight('s', 'v', endpoints);
      expect(startKeySetFetch(new SplitSecurityStorage(), send)).toBeNull();
    }
    expect(sent).toHaveLength(1);
  });
});

describe('earlyIdpRequestInterceptor', () => {
  let http: HttpClient;
  let backend: HttpTestingController;
  let exchange: EarlyIdpRequest;
  let keys: EarlyIdpRequest;
  let answerToken: (value: Answer) => void;
  let answerKeys: (value: Answer) => void;

  function setUp(token: Promise<Answer>, keySet: Promise<Answer>): void {
    token.catch(() => {});
    keySet.catch(() => {});
    exchange = { method: 'POST', url: TOKEN, form: new URLSearchParams(libraryBody()), answer: token, taken: false };
    keys = { method: 'GET', url: JWKS, form: null, answer: keySet, taken: false };
    TestBed.configureTestingModule({
      providers: [provideHttpClient(withInterceptors([earlyIdpRequestInterceptor])), provideHttpClientTesting(), { provide: EARLY_IDP_REQUESTS, useValue: [exchange, keys] }],
    });
    http = TestBed.inject(HttpClient);
    backend = TestBed.inject(HttpTestingController);
  }

  beforeEach(() => setUp(new Promise((resolve) => { answerToken = resolve; }), new Promise((resolve) => { answerKeys = resolve; })));
  afterEach(() => backend.verify());

  const post = (body: string) => firstValueFrom(http.post(TOKEN, body, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }));

  it('answers the library\'s token request and key-set GET with the early ones, once each; the next ones go to the IdP', async () => {
    const token = post(libraryBody());
    const keySet = firstValueFrom(http.get(JWKS));
    answerToken({ status: 200, statusText: 'OK', body: TOKENS });
    answerKeys({ status: 200, statusText: 'OK', body: KEYS });
    expect(await token).toEqual(TOKENS);
    expect(await keySet).toEqual(KEYS);
    backend.expectNone(() => true);
    const again = [post(libraryBody()), firstValueFrom(http.get(JWKS))];
    for (const request of backend.match(() => true)) request.flush({ from: 'idp' });
    for (const result of await Promise.all(again)) expect(result).toEqual({ from: 'idp' });
  });

  it('leaves any other request to the IdP: another code, another verifier, a GET of the token endpoint, the key set with parameters', async () => {
    const others = [post(libraryBody('code-2')), post(libraryBody('code-1', 'verifier-2')), firstValueFrom(http.get(TOKEN)),
      firstValueFrom(http.get(JWKS, { params: new HttpParams().set('x', '1') }))];
    const requests = backend.match(() => true);
    expect(requests).toHaveLength(4);
    for (const request of requests) request.flush({ from: 'idp' });
    for (const result of await Promise.all(others)) expect(result).toEqual({ from: 'idp' });
    expect(exchange.taken || keys.taken).toBe(false);
  });

  it('passes the IdP\'s refusal of the code on as the HTTP error the library handles (the code is spent: not sent again)', async () => {
    const refused = post(libraryBody());
    answerToken({ status: 400, statusText: 'Bad Request', body: { error: 'invalid_grant' } });
    const error = await refused.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpErrorResponse);
    expect((error as HttpErrorResponse).status).toBe(400);
    expect((error as HttpErrorResponse).error).toEqual({ error: 'invalid_grant' });
    backend.expectNone(TOKEN);
  });

  it('a token request that failed on the network is status 0 (offline) to the library; a failed key set is asked of the IdP again', async () => {
    TestBed.resetTestingModule();
    setUp(Promise.reject(new TypeError('Failed to fetch')), Promise.resolve({ status: 503, statusText: 'Unavailable', body: null }));
    const offline = await post(libraryBody()).catch((e: unknown) => e);
    expect((offline as HttpErrorResponse).status).toBe(0);
    const keySet = firstValueFrom(http.get(JWKS));
    await vi.waitFor(() => backend.expectOne(JWKS).flush(KEYS));
    expect(await keySet).toEqual(KEYS);
  });
});
