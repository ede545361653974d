import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { of } from 'rxjs';
import { TOKEN_MODE_CONFIG, type TokenModeConfig } from '../../core/runtime-config';
import { accessTokenInterceptor, isApiUrl } from './access-token-interceptor';
import { ACCESS_TOKEN_SOURCE } from './access-token-source';

const API = 'http://localhost:5001';

describe('isApiUrl', () => {
  const base = 'http://localhost:4200/';
  it('matches the exact origin, with any path when the API has none', () => {
    expect(isApiUrl('http://localhost:5001/api/UserOne', API, base)).toBe(true);
    expect(isApiUrl('http://LOCALHOST:5001/api', API, base)).toBe(true);
    expect(isApiUrl('http://localhost:5001', `${API}/`, base)).toBe(true);
  });

  it('with an API below a path of an origin it shares (the IdP\'s), matches only that path, segment by segment', () => {
    const api = 'https://tenant.example.auth0.com/api/v2';
    for (const url of [api, `${api}/`, `${api}/users?q=1`, `${api}/users/a%2Fb`, 'https://TENANT.example.auth0.com/api/v2/users']) {
      expect(isApiUrl(url, api, base), url).toBe(true);
      expect(isApiUrl(url, `${api}/`, base), url).toBe(true);
    }
    for (const url of [
      'https://tenant.example.auth0.com/oauth/token',
      'https://tenant.example.auth0.com/.well-known/openid-configuration',
      'https://tenant.example.auth0.com/',
      'https://tenant.example.auth0.com/api',
      'https://tenant.example.auth0.com/api/v2x',
      'https://tenant.example.auth0.com/API/v2/users',
      'https://tenant.example.auth0.com/api/v2/../../oauth/token',
      'https://tenant.example.auth0.com/api/v2/%2e%2e/%2E%2E/oauth/revoke',
      'https://tenant.example.auth0.com/api%2Fv2/users',
    ]) {
      expect(isApiUrl(url, api, base), url).toBe(false);
    }
  });

  it('refuses origins a string-prefix match would accept', () => {
    expect(isApiUrl('http://localhost:500/api', API, base)).toBe(false);
    expect(isApiUrl('http://localhost:50011/api', API, base)).toBe(false);
    expect(isApiUrl('http://localhost:5001.evil.example/api', API, base)).toBe(false);
    expect(isApiUrl('http://localhost:5001@evil.example/api', API, base)).toBe(false);
  });

  it('refuses another scheme, host or port, relative URLs and garbage', () => {
    expect(isApiUrl('https://localhost:5001/api', API, base)).toBe(false);
    expect(isApiUrl('http://127.0.0.1:5001/api', API, base)).toBe(false);
    expect(isApiUrl('http://localhost:4400/token', API, base)).toBe(false);
    expect(isApiUrl('/api/UserOne', API, base)).toBe(false);
    expect(isApiUrl('//evil.example/api', API, base)).toBe(false);
    expect(isApiUrl('http://[::1', API, base)).toBe(false);
  });
});

describe('accessTokenInterceptor', () => {
  let http: HttpClient;
  let backend: HttpTestingController;
  let token: string;
  let apiConfig: { apiUrl: string };

  beforeEach(() => {
    token = 'the-access-token';
    apiConfig = { apiUrl: API };
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([accessTokenInterceptor])),
        provideHttpClientTesting(),
        { provide: TOKEN_MODE_CONFIG, useValue: apiConfig as TokenModeConfig },
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

  it('with the API below a path of the IdP\'s origin, sends it to that path only, never to the IdP\'s endpoints', () => {
    apiConfig.apiUrl = 'http://localhost:4400/api/v2';
    expect(authorizationOf('http://localhost:4400/api/v2/users')).toBe('Bearer the-access-token');
    for (const url of ['http://localhost:4400/token', 'http://localhost:4400/token/revocation', 'http://localhost:4400/jwks', 'http://localhost:4400/.well-known/openid-configuration']) {
      expect(authorizationOf(url), url).toBeNull();
    }
  });

  it('sends no header when there is no token', () => {
    token = '';
    expect(authorizationOf('http://localhost:5001/api/UserOne')).toBeNull();
  });
});
