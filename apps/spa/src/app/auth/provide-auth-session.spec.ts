import { testRuntimeConfig } from '../../testing/runtime-config';
import { BffAuthSession } from './bff/bff-auth-session';
import { browserStart, provideAuthSession, type StartContext } from './provide-auth-session';
import type { OidcRuntime } from './oidc/oidc-start';
import { SignedOutAuthSession } from './oidc/signed-out-auth-session';
import { SplitSecurityStorage, STORAGE_PREFIX } from './oidc/split-security-storage';

/** The providers' classes (and `useExisting` targets), to see which session was chosen. */
function sessionClasses(providers: unknown[]): unknown[] {
  return providers.flatMap((p) => (typeof p === 'function' ? [p] : typeof p === 'object' && p && 'useExisting' in p ? [p.useExisting] : []));
}

describe('provideAuthSession', () => {
  let loads: number;
  let start: StartContext;
  let addressBar: string[];
  let callbackUrls: (string | null)[];
  const oidcRuntime = { provideOidcAuthSession: (_config: unknown, callbackUrl: string | null) => (callbackUrls.push(callbackUrl), []) } as unknown as OidcRuntime;

  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
    loads = 0;
    addressBar = [];
    callbackUrls = [];
    start = {
      href: 'http://localhost:4200/', search: '', replaceAddress: (url) => addressBar.push(url), pageApiCall: undefined, storage: new SplitSecurityStorage(), loadOidcRuntime: async () => (loads++, oidcRuntime), fetch: () => Promise.reject(new Error('no network in this test')),
    };
  });

  it('BFF mode never imports the OIDC chunk, not even on a URL that looks like a return from the IdP or beside a token-mode session', async () => {
    localStorage.setItem(`${STORAGE_PREFIX}spa`, '{"authnResult":{},"authzData":"x"}');
    const providers = await provideAuthSession({ mode: 'bff', apiUrl: 'http://localhost:4300' }, { ...start, search: '?code=abc&state=xyz' });
    expect(loads).toBe(0);
    expect(sessionClasses(providers)).toContain(BffAuthSession);
    expect(sessionClasses(providers)).not.toContain(SignedOutAuthSession);
  });

  it('BFF mode leaves the browser\'s storage alone: the start context\'s storage is never read', async () => {
    const unread = Object.defineProperty({ ...start }, 'storage', {
      get: () => {
        throw new Error('BFF mode read the storage');
      },
    });
    expect(sessionClasses(await provideAuthSession({ mode: 'bff', apiUrl: 'http://localhost:4300' }, unread))).toContain(BffAuthSession);
    await expect(provideAuthSession(testRuntimeConfig, unread)).rejects.toThrow('BFF mode read the storage');
  });

  it('the page\'s start context opens localStorage only when its storage is first read', () => {
    const opened = vi.spyOn(globalThis, 'localStorage', 'get');
    try {
      const page = browserStart(undefined);
      expect(opened).not.toHaveBeenCalled();
      expect(page.storage).toBe(page.storage);
      expect(opened).toHaveBeenCalledTimes(1);
    } finally {
      opened.mockRestore();
    }
  });

  it('BFF mode asks for the session and the start-up page\'s data at once (X-CSRF); token mode sends neither', async () => {
    const asked: { url: string; csrf: string | null }[] = [];
    const fetch = (async (url: string, init?: RequestInit) => {
      asked.push({ url, csrf: new Headers(init?.headers).get('X-CSRF') });
      return new Response('{}', { status: 401 });
    }) as typeof globalThis.fetch;
    await provideAuthSession({ mode: 'bff', apiUrl: 'http://localhost:4300' }, { ...start, pageApiCall: '/api/UserOne', fetch });
    expect(asked).toEqual([{ url: '/bff/user', csrf: '1' }, { url: '/api/UserOne', csrf: '1' }]);
    asked.length = 0;
    await provideAuthSession(testRuntimeConfig, { ...start, pageApiCall: '/api/UserOne', fetch });
    expect(asked).toEqual([]);
  });

  it('token mode, on a return from the IdP: the page\'s API call leaves once the early token request is answered, with its access token', async () => {
    const tokenEndpoint = 'http://localhost:4400/oauth/token';
    localStorage.setItem(`${STORAGE_PREFIX}spa`, JSON.stringify({ authWellKnownEndPoints: { tokenEndpoint, jwksUri: 'http://localhost:4400/jwks' } }));
    sessionStorage.setItem(`${STORAGE_PREFIX}spa`, JSON.stringify({ authStateControl: 'state-1', codeVerifier: 'verifier-1' }));
    const asked: { method: string; url: string; authorization: string | null }[] = [];
    const fetch = (async (url: string, init?: RequestInit) => {
      asked.push({ method: init?.method ?? 'GET', url, authorization: new Headers(init?.headers).get('Authorization') });
      return new Response(JSON.stringify(url === tokenEndpoint ? { access_token: 'at-1', id_token: 'it' } : {}), { status: 200 });
    }) as typeof globalThis.fetch;
    const href = 'http://localhost:4200/?code=code-1&state=state-1';
    await provideAuthSession(testRuntimeConfig, { ...start, href, search: '?code=code-1&state=state-1', pageApiCall: '/api/UserOne', fetch });
    await vi.waitFor(() => expect(asked).toHaveLength(3));
    expect(asked).toEqual([
      { method: 'POST', url: tokenEndpoint, authorization: null },
      { method: 'GET', url: 'http://localhost:4400/jwks', authorization: null },
      { method: 'GET', url: 'http://localhost:5001/api/UserOne', authorization: 'Bearer at-1' },
    ]);
  });

  it('token mode imports it on a return from the IdP, and starts signed out without it otherwise', async () => {
    expect(sessionClasses(await provideAuthSession(testRuntimeConfig, start))).toContain(SignedOutAuthSession);
    expect(loads).toBe(0);
    await provideAuthSession(testRuntimeConfig, { ...start, search: '?code=abc&state=xyz' });
    expect(loads).toBe(1);
  });

  it('token mode takes the code and state out of the address bar before the OIDC chunk loads, and hands the callback\'s address to the session', async () => {
    const href = 'http://localhost:4200/?code=abc&state=xyz&iss=http%3A%2F%2Flocalhost%3A4400';
    const loadedAfter: string[][] = [];
    const loadOidcRuntime = async () => (loadedAfter.push([...addressBar]), oidcRuntime);
    await provideAuthSession(testRuntimeConfig, { ...start, href, search: new URL(href).search, loadOidcRuntime });
    expect(loadedAfter).toEqual([['http://localhost:4200/']]);
    expect(callbackUrls).toEqual([href]);
  });

  it('token mode leaves the address bar alone on any other start, and gives the session no callback address', async () => {
    localStorage.setItem(`${STORAGE_PREFIX}spa`, '{"authnResult":{},"authzData":"x"}');
    await provideAuthSession(testRuntimeConfig, { ...start, href: 'http://localhost:4200/notes?tab=1', search: '?tab=1' });
    expect(addressBar).toEqual([]);
    expect(callbackUrls).toEqual([null]);
  });
});
