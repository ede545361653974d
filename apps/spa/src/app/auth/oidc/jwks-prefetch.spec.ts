import { HttpClient, HttpParams, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';
import { JwksPrefetch, jwksPrefetchInterceptor } from './jwks-prefetch';
import { STORAGE_PREFIX } from './split-security-storage';

const JWKS = 'http://localhost:4400/jwks';
const KEYS = { keys: [{ kty: 'RSA', kid: 'k1', n: 'n', e: 'AQAB' }] };

describe('JwksPrefetch', () => {
  let http: HttpClient;
  let backend: HttpTestingController;
  let prefetch: JwksPrefetch;

  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      providers: [provideHttpClient(withInterceptors([jwksPrefetchInterceptor])), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpClient);
    backend = TestBed.inject(HttpTestingController);
    prefetch = TestBed.inject(JwksPrefetch);
  });

  afterEach(() => backend.verify());

  it('answers the next GET of the key set with the request it started earlier, once', async () => {
    prefetch.start(JWKS);
    backend.expectOne({ method: 'GET', url: JWKS }).flush(KEYS);
    expect(await firstValueFrom(http.get(JWKS))).toEqual(KEYS);
    backend.expectNone(JWKS);
    // Later requests (renewals) go to the IdP again.
    const again = firstValueFrom(http.get(JWKS));
    backend.expectOne(JWKS).flush({ keys: [] });
    expect(await again).toEqual({ keys: [] });
  });

  it('waits for the prefetch when asked before it answered', async () => {
    prefetch.start(JWKS);
    const answer = firstValueFrom(http.get(JWKS));
    backend.expectOne(JWKS).flush(KEYS);
    expect(await answer).toEqual(KEYS);
  });

  it('leaves every other request alone: another URL, a POST, other parameters', async () => {
    prefetch.start(JWKS);
    const other = firstValueFrom(http.get('http://localhost:4400/other'));
    const post = firstValueFrom(http.post(JWKS, {}));
    const withParams = firstValueFrom(http.get(JWKS, { params: new HttpParams().set('x', '1') }));
    const requests = backend.match(() => true);
    expect(requests.map((r) => `${r.request.method} ${r.request.urlWithParams}`).sort()).toEqual(
      [`GET ${JWKS}`, `GET ${JWKS}?x=1`, 'GET http://localhost:4400/other', `POST ${JWKS}`].sort(),
    );
    for (const request of requests) request.flush({ from: request.request.urlWithParams });
    expect(await other).toEqual({ from: 'http://localhost:4400/other' });
    expect(await post).toEqual({ from: JWKS });
    expect(await withParams).toEqual({ from: `${JWKS}?x=1` });
  });

  it('a failed prefetch is asked again when the library asks, and then goes to the IdP as usual', async () => {
    prefetch.start(JWKS);
    backend.expectOne(JWKS).flush('down', { status: 503, statusText: 'Unavailable' });
    const answer = firstValueFrom(http.get(JWKS));
    backend.expectOne(JWKS).flush(KEYS);
    expect(await answer).toEqual(KEYS);
    const later = firstValueFrom(http.get(JWKS));
    backend.expectOne(JWKS).flush(KEYS);
    expect(await later).toEqual(KEYS);
  });

  describe('startOnReturnFromIdp', () => {
    afterEach(() => history.replaceState(null, '', '/'));

    it('fetches the jwks_uri of the stored discovery document on a return with a code', () => {
      localStorage.setItem(`${STORAGE_PREFIX}spa`, JSON.stringify({ authWellKnownEndPoints: { jwksUri: JWKS } }));
      history.replaceState(null, '', '/?code=the-code&state=the-state');
      prefetch.startOnReturnFromIdp();
      backend.expectOne({ method: 'GET', url: JWKS }).flush(KEYS);
    });

    it('fetches nothing on an ordinary start, after an error, or without a usable jwks_uri', () => {
      localStorage.setItem(`${STORAGE_PREFIX}spa`, JSON.stringify({ authWellKnownEndPoints: { jwksUri: JWKS } }));
      prefetch.startOnReturnFromIdp();
      history.replaceState(null, '', '/?error=access_denied&state=s');
      prefetch.startOnReturnFromIdp();
      history.replaceState(null, '', '/?code=c&state=s');
      for (const stored of [{}, { authWellKnownEndPoints: { jwksUri: 'not a url' } }, { authWellKnownEndPoints: 'x' }]) {
        localStorage.setItem(`${STORAGE_PREFIX}spa`, JSON.stringify(stored));
        prefetch.startOnReturnFromIdp();
      }
      backend.expectNone(() => true);
    });
  });
});
