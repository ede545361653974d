import { HttpClient, HttpErrorResponse, HttpParams, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';
import { testRuntimeConfig } from '../../../testing/runtime-config';
import { CODE_EXCHANGE, codeExchangeInterceptor, startCodeExchange, type CodeExchange } from './code-exchange-prefetch';
import { OIDC_CONFIG_ID } from './oidc-config-id';
import { SplitSecurityStorage, STORAGE_PREFIX } from './split-security-storage';

const TOKEN = 'http://localhost:4400/oauth/token';
const config = testRuntimeConfig;
const TOKENS = { access_token: 'at', id_token: 'it', token_type: 'Bearer' };

/** What the library stores before it sends the browser to the IdP. */
function storeLoginInFlight(state = 'state-1', codeVerifier = 'verifier-1'): void {
  localStorage.setItem(STORAGE_PREFIX + OIDC_CONFIG_ID, JSON.stringify({ authWellKnownEndPoints: { tokenEndpoint: TOKEN } }));
  sessionStorage.setItem(STORAGE_PREFIX + OIDC_CONFIG_ID, JSON.stringify({ authStateControl: state, codeVerifier }));
}

/** The library's body, encoded as Angular's HttpParams encode it. */
function libraryBody(code = 'code-1', verifier = 'verifier-1'): string {
  return new HttpParams({ fromObject: { grant_type: 'authorization_code', client_id: config.clientId, code_verifier: verifier, code, redirect_uri: config.redirectUrl } }).toString();
}

describe('startCodeExchange', () => {
  let sent: { url: string; init: RequestInit }[];
  const send = (async (url: string, init: RequestInit) => {
    sent.push({ url, init });
    return new Response(JSON.stringify(TOKENS), { status: 200 });
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
    expect(Object.fromEntries(new URLSearchParams(String(sent[0]!.init.body)))).toEqual({
      grant_type: 'authorization_code', client_id: config.clientId, code_verifier: 'verifier-1', code: 'code-1', redirect_uri: config.redirectUrl,
    });
    expect((await exchange!.answer).body).toEqual(TOKENS);
  });

  it('sends nothing for a state the library did not store (a forged or replayed callback), an error, or no login in flight', () => {
    storeLoginInFlight();
    const storage = new SplitSecurityStorage();
    for (const search of ['?code=code-1&state=forged', '?code=code-1', '?error=access_denied&state=state-1', '?code=code-1&state=state-1&error=x', '']) {
      expect(startCodeExchange(config, search, storage, send), search).toBeNull();
    }
    sessionStorage.clear();
    expect(startCodeExchange(config, '?code=code-1&state=state-1', storage, send)).toBeNull();
    expect(sent).toEqual([]);
  });
});

describe('codeExchangeInterceptor', () => {
  let http: HttpClient;
  let backend: HttpTestingController;
  let exchange: CodeExchange;
  let answer: (value: { status: number; statusText: string; body: unknown }) => void;

  function setUp(answered: Promise<{ status: number; statusText: string; body: unknown }>): void {
    exchange = { url: TOKEN, params: new URLSearchParams(libraryBody()), answer: answered, taken: false };
    TestBed.configureTestingModule({
      providers: [provideHttpClient(withInterceptors([codeExchangeInterceptor])), provideHttpClientTesting(), { provide: CODE_EXCHANGE, useValue: exchange }],
    });
    http = TestBed.inject(HttpClient);
    backend = TestBed.inject(HttpTestingController);
  }

  beforeEach(() => setUp(new Promise((resolve) => { answer = resolve; })));
  afterEach(() => backend.verify());

  const post = (body: string) => firstValueFrom(http.post(TOKEN, body, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }));

  it('answers the library\'s token request with the exchange, once; the next one goes to the IdP', async () => {
    const first = post(libraryBody());
    answer({ status: 200, statusText: 'OK', body: TOKENS });
    expect(await first).toEqual(TOKENS);
    backend.expectNone(TOKEN);
    const second = post(libraryBody());
    backend.expectOne(TOKEN).flush({ from: 'idp' });
    expect(await second).toEqual({ from: 'idp' });
  });

  it('leaves any other request to the IdP: another code, another verifier, a GET', async () => {
    const otherCode = post(libraryBody('code-2'));
    const otherVerifier = post(libraryBody('code-1', 'verifier-2'));
    const get = firstValueFrom(http.get(TOKEN));
    const requests = backend.match(TOKEN);
    expect(requests).toHaveLength(3);
    for (const request of requests) request.flush({ from: 'idp' });
    for (const result of await Promise.all([otherCode, otherVerifier, get])) expect(result).toEqual({ from: 'idp' });
    expect(exchange.taken).toBe(false);
  });

  it('passes the IdP\'s refusal on as the HTTP error the library handles', async () => {
    const refused = post(libraryBody());
    answer({ status: 400, statusText: 'Bad Request', body: { error: 'invalid_grant' } });
    const error = await refused.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpErrorResponse);
    expect((error as HttpErrorResponse).status).toBe(400);
    expect((error as HttpErrorResponse).error).toEqual({ error: 'invalid_grant' });
  });

  it('passes a network failure on as status 0, which the library treats as offline', async () => {
    TestBed.resetTestingModule();
    const failed = Promise.reject(new TypeError('Failed to fetch'));
    failed.catch(() => {});
    setUp(failed);
    const error = await post(libraryBody()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpErrorResponse);
    expect((error as HttpErrorResponse).status).toBe(0);
  });
});
