import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { of } from 'rxjs';
import { TOKEN_MODE_CONFIG, type TokenModeConfig } from '../../core/runtime-config';
import { accessTokenInterceptor, isApiOrigin } from './access-token-interceptor';
import { ACCESS_TOKEN_SOURCE } from './access-token-source';

const API = 'http://localhost:5001';

describe('isApiOrigin', () => {
  const base = 'http://localhost:4200/';
  it('matches the exact origin, with any path', () => {
    expect(isApiOrigin('http://localhost:5001/api/UserOne', API, base)).toBe(true);
    expect(isApiOrigin('http://LOCALHOST:5001/api', API, base)).toBe(true);
    expect(isApiOrigin('http://localhost:5001', `${API}/some/base/`, base)).toBe(true);
  });

  it('refuses origins a string-prefix match would accept', () => {
    expect(isApiOrigin('http://localhost:500/api', API, base)).toBe(false);
    expect(isApiOrigin('http://localhost:50011/api', API, base)).toBe(false);
    expect(isApiOrigin('http://localhost:5001.evil.example/api', API, base)).toBe(false);
    expect(isApiOrigin('http://localhost:5001@evil.example/api', API, base)).toBe(false);
  });

  it('refuses another scheme, host or port, relative URLs and garbage', () => {
    expect(isApiOrigin('https://localhost:5001/api', API, base)).toBe(false);
    expect(isApiOrigin('http://127.0.0.1:5001/api', API, base)).toBe(false);
    expect(isApiOrigin('http://localhost:4400/token', API, base)).toBe(false);
    expect(isApiOrigin('/api/UserOne', API, base)).toBe(false);
    expect(isApiOrigin('//evil.example/api', API, base)).toBe(false);
    expect(isApiOrigin('http://[::1', API, base)).toBe(false);
  });
});

describe('accessTokenInterceptor', () => {
  let http: HttpClient;
  let backend: HttpTestingController;
  let token: string;

  beforeEach(() => {
    token = 'the-access-token';
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([accessTokenInterceptor])),
        provideHttpClientTesting(),
        { provide: TOKEN_MODE_CONFIG, useValue: { apiUrl: API } as TokenModeConfig },
        { provide: ACCESS_TOKEN_SOURCE, useValue: { accessToken: () => of(token) } },
      ],
    });
    http = TestBed.inject(HttpClient);
    backend = TestBed.inject(HttpTestingController);
  });

  afterEach(() => backend.verify());

  function authorizationOf(url: string): string | null {
    http.get(url).subscribe();
    const request = backend.expectOne(url);
    request.flush({});
    return request.request.headers.get('Authorization');
  }

  it('sends the token to the API origin', () => {
    expect(authorizationOf('http://localhost:5001/api/UserOne')).toBe('Bearer the-access-token');
  });

  it('sends it nowhere else: IdP, look-alike origins, the SPA itself', () => {
    for (const url of [
      'http://localhost:4400/token',
      'http://localhost:500/api',
      'http://localhost:50011/api',
      'http://localhost:5001.evil.example/api',
      'https://localhost:5001/api',
      'http://example.com/',
      '/config.json',
    ]) {
      expect(authorizationOf(url), url).toBeNull();
    }
  });

  it('sends no header when there is no token', () => {
    token = '';
    expect(authorizationOf('http://localhost:5001/api/UserOne')).toBeNull();
  });
});
